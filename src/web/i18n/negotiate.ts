/**
 * Which language a page is shown in (pure): `?lang=`, then the language picker's cookie, then the
 * browser's Accept-Language, then the configured default. Each candidate is matched by RFC 4647
 * lookup (`de-AT` → `de`), and a bare language also finds its one regional catalog (`pt` → `pt-BR`).
 */

export type LanguageSource = 'query' | 'cookie' | 'header' | 'default';

export interface LanguageRequest {
  query?: string;
  cookie?: string;
  acceptLanguage?: string;
}

/** An Accept-Language header's tags, most preferred first (q=0 and `*` dropped; at most 20 entries read). */
export function acceptLanguages(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .slice(0, 1024)
    .split(',')
    .slice(0, 20)
    .map((part, i) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => /^q=([\d.]+)$/.exec(p.trim())?.[1]).find(Boolean);
      return { tag: tag!.trim(), q: q ? Number(q) : 1, i };
    })
    .filter((l) => l.tag && l.tag !== '*' && l.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i)
    .map((l) => l.tag);
}

/** The available tag that best serves `wanted`, if any. */
export function matchLanguage(wanted: string, available: readonly string[]): string | undefined {
  const lower = new Map(available.map((t) => [t.toLowerCase(), t]));
  const subtags = wanted.trim().toLowerCase().split('-');
  for (let n = subtags.length; n > 0; n--) {
    const hit = lower.get(subtags.slice(0, n).join('-'));
    if (hit) return hit;
  }
  // `pt` (or `pt-PT` with no pt catalog) → the one catalog of that language, if there is exactly one.
  const regional = available.filter((t) => t.toLowerCase().split('-')[0] === subtags[0]);
  return regional.length === 1 ? regional[0] : undefined;
}

export function negotiateLanguage(req: LanguageRequest, available: readonly string[], fallback: string): { tag: string; source: LanguageSource } {
  const query = req.query ? matchLanguage(req.query, available) : undefined;
  if (query) return { tag: query, source: 'query' };
  const cookie = req.cookie ? matchLanguage(req.cookie, available) : undefined;
  if (cookie) return { tag: cookie, source: 'cookie' };
  for (const tag of acceptLanguages(req.acceptLanguage)) {
    const hit = matchLanguage(tag, available);
    if (hit) return { tag: hit, source: 'header' };
  }
  return { tag: fallback, source: 'default' };
}
