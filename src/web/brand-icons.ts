/**
 * Icons for the provider picker: a monogram badge in the brand's colour (inline SVG, so it works
 * under the pages' CSP and without JavaScript). Decorative: the button text names the provider.
 */
const BRANDS: Record<string, { color: string; letter: string }> = {
  apple: { color: '#000000', letter: '' },
  facebook: { color: '#1877f2', letter: 'f' },
  github: { color: '#24292f', letter: 'GH' },
  gitlab: { color: '#fc6d26', letter: 'GL' },
  google: { color: '#4285f4', letter: 'G' },
  microsoft: { color: '#737373', letter: 'M' },
  okta: { color: '#007dc1', letter: 'O' },
  keycloak: { color: '#4d4d4d', letter: 'K' },
  university: { color: '#6d2077', letter: '🎓' },
  generic: { color: '#0d6e5c', letter: '' },
};

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** SVG markup (built only from the fixed table above and the provider name's first letter, escaped). */
export function brandIcon(brand: string | undefined, providerName: string): string {
  const b = BRANDS[brand ?? 'generic'] ?? BRANDS.generic!;
  const letter = b.letter || (Array.from(providerName.trim())[0] ?? '?').toUpperCase();
  return (
    `<svg class="brand-icon" aria-hidden="true" focusable="false" width="24" height="24" viewBox="0 0 24 24">` +
    `<circle cx="12" cy="12" r="12" fill="${b.color}"/>` +
    `<text x="12" y="16.5" text-anchor="middle" font-size="${letter.length > 1 ? 10 : 13}" font-family="system-ui, sans-serif" font-weight="700" fill="#fff">${escapeXml(letter)}</text>` +
    `</svg>`
  );
}
