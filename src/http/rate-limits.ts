/**
 * Per-client-IP limits (login, token, registration, admin: docs/operator/install.md, "Operating
 * it"), applied by @fastify/rate-limit through each route's config. Generous: a 429 on a refresh makes
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
  /** Each /authorize starts a login (state kept until it expires): bounds what one address can make us store. */
  authorize: perMinute(300),
  /** Steps of a login (forms, upstream callbacks): a person takes a handful per sign-in. */
  loginStep: perMinute(600),
  /** The admin API; failed authentications count like the rest. */
  admin: perMinute(600),
  /** Legacy `POST /_matrix/client/{v}/login` and `/refresh` (generous: a 429 on /refresh signs matrix-js-sdk users out). */
  compatLogin: perMinute(1200),
  compatRefresh: perMinute(1200),
  /** Failed authentications at /oauth2/introspect (successful calls are never counted: Synapse calls it per request). */
  introspectionFailures: perMinute(30),
};

/**
 * The limit of a route known by its path rather than by a decorator: the login flow's pages and the
 * admin API. Inbound logout (OIDC back-channel, SAML SLO, CAS SLO) is not limited: an IdP signing
 * out many people at once sends many requests from one address.
 */
export function rateLimitForPath(url: string): { max: number; timeWindow: number } | undefined {
  if (url === '/authorize') return RATE_LIMITS.authorize;
  if (url.startsWith('/api/admin/')) return RATE_LIMITS.admin;
  if (url.startsWith('/login/') || url === '/link' || url.startsWith('/complete-compat-sso/') || /^\/upstream\/[^/]+\/(callback|callback\/resume\/[^/]+|dev-login)$/.test(url)) {
    return RATE_LIMITS.loginStep;
  }
  return undefined;
}
