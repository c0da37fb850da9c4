/**
 * Icons for the provider picker: a badge in the brand's colour with a monogram or a drawn glyph
 * (inline SVG paths, so they work under the pages' CSP, without JavaScript and without any font
 * having the glyph: an emoji or a private-use character shows as a missing-glyph box on many
 * systems). Decorative: the button text names the provider.
 */
interface Brand {
  color: string;
  /** A monogram (Latin letters every font has) … */
  letter?: string;
  /** … or a white glyph drawn in a 24×24 box. */
  path?: string;
}

const GLYPHS = {
  /** A mortarboard (academic cap). */
  university: 'M12 4.5 3 9l9 4.5L19.5 9.75V14h1.5V9L12 4.5zM7 12.2v2.9c0 1.5 2.2 2.9 5 2.9s5-1.4 5-2.9v-2.9l-5 2.5-5-2.5z',
  /** An apple. */
  apple:
    'M15.6 12.5c0-1.7 1.4-2.5 1.4-2.6-.8-1.1-2-1.3-2.4-1.3-1-.1-2 .6-2.5.6s-1.3-.6-2.2-.6c-1.1 0-2.2.7-2.8 1.7-1.2 2-.3 5.1.9 6.8.6.8 1.2 1.7 2.1 1.7.8 0 1.2-.5 2.2-.5s1.3.5 2.2.5 1.5-.8 2-1.7c.6-.9.9-1.8.9-1.9-.1 0-1.8-.7-1.8-2.7zM14 7.5c.4-.6.8-1.4.7-2.2-.7 0-1.5.5-2 1-.4.5-.8 1.3-.7 2.1.8.1 1.6-.4 2-.9z',
  /** A person (head and shoulders). */
  person: 'M12 12a3.25 3.25 0 1 0 0-6.5 3.25 3.25 0 0 0 0 6.5zm0 1.6c-2.9 0-6 1.4-6 3.4v1.5h12V17c0-2-3.1-3.4-6-3.4z',
};

const BRANDS: Record<string, Brand> = {
  apple: { color: '#000000', path: GLYPHS.apple },
  discord: { color: '#5865f2', letter: 'D' },
  facebook: { color: '#1877f2', letter: 'f' },
  github: { color: '#24292f', letter: 'GH' },
  gitlab: { color: '#c9461b', letter: 'GL' },
  google: { color: '#1a73e8', letter: 'G' },
  microsoft: { color: '#5e5e5e', letter: 'M' },
  okta: { color: '#007dc1', letter: 'O' },
  keycloak: { color: '#4d4d4d', letter: 'K' },
  university: { color: '#6d2077', path: GLYPHS.university },
  generic: { color: '#0d6e5c', path: GLYPHS.person },
};

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** SVG markup (built only from the fixed table above and, for a monogram, the brand's letters, escaped). */
export function brandIcon(brand: string | undefined): string {
  const b = (brand && Object.hasOwn(BRANDS, brand) ? BRANDS[brand] : undefined) ?? BRANDS.generic!;
  const glyph = b.path
    ? `<path d="${b.path}" fill="#fff"/>`
    : `<text x="12" y="16.5" text-anchor="middle" font-size="${b.letter!.length > 1 ? 10 : 13}" font-family="system-ui, sans-serif" font-weight="700" fill="#fff">${escapeXml(b.letter!)}</text>`;
  return `<svg class="brand-icon" aria-hidden="true" focusable="false" width="24" height="24" viewBox="0 0 24 24">` + `<circle cx="12" cy="12" r="12" fill="${b.color}"/>${glyph}</svg>`;
}
