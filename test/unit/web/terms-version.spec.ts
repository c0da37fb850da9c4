import { describe, expect, it } from '@jest/globals';
import { brandingSection, termsVersion } from '../../../src/config/sections/branding.config.js';

describe('the terms version an account records', () => {
  it('is tos_version, else the address itself, hashed to fit the 64-character column when longer', () => {
    const b = (v: Record<string, unknown>) => brandingSection.parse(v);
    expect(termsVersion(b({}))).toBeUndefined();
    expect(termsVersion(b({ tos_uri: 'https://example.org/terms', tos_version: '2026-01' }))).toBe('2026-01');
    expect(termsVersion(b({ tos_uri: 'https://example.org/terms' }))).toBe('https://example.org/terms');
    const long = `https://example.org/${'legal/'.repeat(12)}terms-of-service-v3.html`;
    const v = termsVersion(b({ tos_uri: long }))!;
    expect(v).toMatch(/^sha256:[0-9a-f]{57}$/);
    expect(v).toHaveLength(64);
    expect(termsVersion(b({ tos_uri: `${long}?v=4` }))).not.toBe(v);
  });
});
