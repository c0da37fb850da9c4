/**
 * Per-client-IP limits of the unauthenticated OAuth endpoints (DESIGN §9), applied by
 * @fastify/rate-limit through each route's config. Generous: a 429 on a refresh makes
 * matrix-js-sdk sign the user out, so these only stop floods. Overridable with
 * CAUSEWAY_RATE_LIMIT_SCALE (a multiplier, e.g. 0.01 in a test that checks the 429).
 */
const scale = Number(process.env.CAUSEWAY_RATE_LIMIT_SCALE ?? '1') || 1;
const perMinute = (n: number) => ({ max: Math.max(1, Math.round(n * scale)), timeWindow: 60_000 });

export const RATE_LIMITS = {
  token: perMinute(1200),
  registration: perMinute(300),
  deviceAuthorization: perMinute(300),
  revocation: perMinute(1200),
};
