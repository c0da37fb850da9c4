import { describe, expect, it } from '@jest/globals';
import { checksum, generateToken, parseToken, secretsEqual } from '../../../src/crypto/token-format.js';

describe('MAS token format', () => {
  it('accepts the check vectors from MAS test snapshots', () => {
    expect(parseToken('mct_cxG6gZXyvelQWW9XqfNbm5KAQovodf_XvJz43')).toBe('compat_access');
    expect(parseToken('mcr_Yp7FM44zJN5qePGMLvvMXC4Ds1A3lC_0YcYCM')).toBe('compat_refresh');
  });

  it('left-pads short checksums with 0', () => {
    expect(checksum('mcr_Yp7FM44zJN5qePGMLvvMXC4Ds1A3lC')).toBe('0YcYCM');
  });

  it.each([
    ['wrong checksum', 'mct_cxG6gZXyvelQWW9XqfNbm5KAQovodf_XvJz44'],
    ['unknown prefix', 'xyz_cxG6gZXyvelQWW9XqfNbm5KAQovodf_XvJz43'],
    ['short random part', 'mat_abc_XvJz43'],
    ['empty', ''],
    ['non-ascii', 'mat_cxG6gZXyvelQWW9XqfNbm5KAQovodé_XvJz43'],
    ['trailing garbage', 'mct_cxG6gZXyvelQWW9XqfNbm5KAQovodf_XvJz43 '],
  ])('rejects a malformed token (%s) without I/O', (_name, token) => {
    expect(parseToken(token)).toBeUndefined();
  });

  it('generates well-formed tokens of each kind', () => {
    for (const kind of ['access', 'refresh', 'compat_access', 'compat_refresh'] as const) {
      const t = generateToken(kind);
      expect(t).toMatch(/^(mat|mar|mct|mcr)_[A-Za-z0-9]{30}_[A-Za-z0-9]{6}$/);
      expect(parseToken(t)).toBe(kind);
    }
  });

  it('compares secrets in constant time, including different lengths', () => {
    expect(secretsEqual('abc', 'abc')).toBe(true);
    expect(secretsEqual('abc', 'abd')).toBe(false);
    expect(secretsEqual('abc', 'abcd')).toBe(false);
  });
});
