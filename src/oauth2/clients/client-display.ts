import type { ClientDisplay } from '../oauth2.contracts.js';
import type { OAuthClient } from './client.js';

/**
 * The consent page's view of a client. Localized fields (`client_name#fr`) win when one of the
 * browser's languages matches (exact tag, then its primary subtag); else the plain field.
 */
export function clientDisplay(client: OAuthClient, languages: string[] = []): ClientDisplay {
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
  const clientUri = pick('client_uri');
  let host: string | undefined;
  try {
    host = clientUri ? new URL(clientUri).host : undefined;
  } catch {
    host = undefined;
  }
  return {
    clientId: client.clientId,
    name: pick('client_name') ?? host ?? client.clientId,
    clientUri,
    logoUri: pick('logo_uri'),
    tosUri: pick('tos_uri'),
    policyUri: pick('policy_uri'),
    host,
  };
}

/** Parses an Accept-Language header into tags by preference. */
export function acceptLanguages(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .split(',')
    .map((part) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => /^q=([\d.]+)$/.exec(p.trim())?.[1]).find(Boolean);
      return { tag: tag!.trim(), q: q ? Number(q) : 1 };
    })
    .filter((l) => l.tag && l.tag !== '*' && l.q > 0)
    .sort((a, b) => b.q - a.q)
    .map((l) => l.tag);
}
