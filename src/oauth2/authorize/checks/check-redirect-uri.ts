import { OAuth2RefusalError } from '../../refusal.error.js';
import { canonicalRedirectUri, redirectUriMatches } from '../../clients/redirect-uri.rules.js';
import type { AuthorizationCheck } from './authorization-context.js';

/**
 * redirect_uri must equal a registered one (both in canonical form; a registered port-less loopback
 * URI matches any port), and the browser goes to its canonical form. Absent: the single registered
 * URI, if there is exactly one (as MAS does).
 * Failures are shown as a page, never redirected (RFC 6749 §4.1.2.1).
 */
export const checkRedirectUri: AuthorizationCheck = (ctx) => {
  const client = ctx.client!;
  const raw = ctx.params.redirect_uri;
  if (Array.isArray(raw)) throw new OAuth2RefusalError('redirect_uri_repeated', {}, { reason: 'duplicated_redirect_uri' });
  const requested = typeof raw === 'string' && raw !== '' ? raw : undefined;
  if (requested === undefined) {
    if (client.redirectUris.length !== 1) {
      throw new OAuth2RefusalError('redirect_uri_missing', {}, { reason: 'missing_redirect_uri' });
    }
    ctx.redirectUri = canonicalRedirectUri(client.redirectUris[0]!) ?? client.redirectUris[0]!;
  } else {
    if (!client.redirectUris.some((r) => redirectUriMatches(r, requested))) {
      throw new OAuth2RefusalError('redirect_uri_mismatch', {}, { reason: 'redirect_uri_mismatch', clientId: client.clientId });
    }
    ctx.redirectUri = canonicalRedirectUri(requested)!;
  }
  ctx.request.redirectUri = ctx.redirectUri;
};
