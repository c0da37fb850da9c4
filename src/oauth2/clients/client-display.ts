import type { ClientDisplay } from '../oauth2.contracts.js';
import type { OAuthClient } from './client.js';

/**
 * The consent page's view of a client. Localized fields (`client_name#fr`) win when one of the
 * browser's languages matches (exact tag, then its primary subtag); else the plain field.
 *
 * The host shown under the name is always the host of the plain `client_uri` (issue 13, F2): it is
 * what registration checked the redirect URIs against, whereas a localized `client_uri#fr` was
 * once only checked for "https, not a public suffix", so a client could show "app.element.io" to
 * French speakers while its codes went elsewhere. A localized client_uri on another host is ignored.
 * `redirectUri` (the authorization request's) adds where the browser will be sent.
 */
export function clientDisplay(client: OAuthClient, languages: string[] = [], redirectUri?: string): ClientDisplay {
  const m = client.metadata;
  const pick = (field: string): string | undefined => {
    for (const lang of languages) {
      const tag = lang.trim();
      if (!tag) continue;
      for (const candidate of [tag, tag.split('-')[0]!]) {
        const key = Object.keys(m).find((k) => k.toLowerCase() === `${field}#${candidate}`.toLowerCase());
        if (key && typeof m[key] === 'string') return m[key] as string;
      }
    }
    return typeof m[field] === 'string' ? (m[field] as string) : undefined;
  };
  const baseUri = typeof m.client_uri === 'string' ? m.client_uri : undefined;
  const host = hostOf(baseUri);
  const localizedUri = pick('client_uri');
  const clientUri = localizedUri !== undefined && hostOf(localizedUri) === host ? localizedUri : baseUri;
  return {
    clientId: client.clientId,
    name: pick('client_name') ?? host ?? client.clientId,
    clientUri,
    logoUri: pick('logo_uri'),
    tosUri: pick('tos_uri'),
    policyUri: pick('policy_uri'),
    host,
    ...(redirectUri ? { redirectTarget: redirectTarget(redirectUri) } : {}),
  };
}

function hostOf(uri: string | undefined): string | undefined {
  if (!uri) return undefined;
  try {
    return new URL(uri).host || undefined;
  } catch {
    return undefined;
  }
}

/** Where a redirect URI sends the browser, as a person can check it: the host, or a native app's scheme. */
export function redirectTarget(uri: string): string | undefined {
  try {
    const u = new URL(uri);
    return u.host || u.protocol.slice(0, -1);
  } catch {
    return undefined;
  }
}
