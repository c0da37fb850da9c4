import * as oidc from 'openid-client';
import { upstreamCall, type UpstreamCallKind } from '../../telemetry/outbound-calls.js';
import { upstreamError } from './oauth-errors.js';
import { BodyTooLargeError, readBodyBounded } from '../bounded-body.js';

/** Largest API answer read (a GitHub /user is ~1.5 KB; lists of emails or organisations stay small). */
const MAX_BYTES = 1024 * 1024;

/**
 * GET a JSON API with the user's access token (openid-client's fetchProtectedResource: Bearer, the
 * configuration's timeout and TLS rules), traced and timed as an upstream call. The answer is
 * read up to MAX_BYTES and must be JSON. Throws UpstreamError: 401/403/404 `upstream_denied` (the
 * token does not grant it), 5xx/network `upstream_unavailable`, anything unreadable `malformed`.
 */
export async function fetchJsonResource(config: oidc.Configuration, providerId: string, kind: UpstreamCallKind, accessToken: string, url: string, headers: Record<string, string>): Promise<unknown> {
  return upstreamCall(providerId, kind, async () => {
    let res: Response;
    try {
      res = await oidc.fetchProtectedResource(config, accessToken, new URL(url), 'GET', undefined, new Headers({ accept: 'application/json', ...headers }));
    } catch (e) {
      throw upstreamError(e instanceof oidc.WWWAuthenticateChallengeError ? 'upstream_denied' : 'upstream_unavailable', e);
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      const cause = `GET ${new URL(url).pathname} answered ${res.status}`;
      throw upstreamError(res.status >= 500 || res.status === 429 ? 'upstream_unavailable' : 'upstream_denied', cause);
    }
    const text = await readLimited(res, MAX_BYTES);
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw upstreamError('malformed', e);
    }
  });
}

async function readLimited(res: Response, maxBytes: number): Promise<string> {
  try {
    return (await readBodyBounded(res, maxBytes)).toString('utf8');
  } catch (e) {
    if (e instanceof BodyTooLargeError) throw upstreamError('malformed', e.message);
    throw e;
  }
}
