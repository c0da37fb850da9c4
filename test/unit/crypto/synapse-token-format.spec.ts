import { describe, expect, it } from '@jest/globals';
import { generateSynapseToken, parseSynapseToken } from '../../../src/crypto/synapse-token-format.js';
import { parseToken } from '../../../src/crypto/token-format.js';

/**
 * Tokens Synapse issued before the switch. The check vectors were computed with Synapse's own
 * algorithm (zlib CRC-32 of everything before the last `_`, base62 most significant digit first,
 * padded to 6) in Python, independently of this implementation.
 */
const VECTORS = {
  access: 'syt_YWxpY2U_abcdefghijklmnopqrst_1TMI8I',
  refresh: 'syr_Ym9i_ZYXWVUTSRQPONMLKJIHG_0zbxLx',
  nonAscii: 'syt_w6lsb2RpZQ_QwErTyUiOpAsDfGhJkLz_0O4BA8',
};
/** A pymacaroons v1 serialisation of the shape Synapse < 1.34 issued (location, identifier, caveats, signature). */
const MACAROON =
  'MDAxYWxvY2F0aW9uIGV4YW1wbGUudGVzdAowMDEzaWRlbnRpZmllciBrZXkKMDAxMGNpZCBnZW4gPSAxCjAwMjZjaWQgdXNlcl9pZCA9IEBhbGljZTpleGFtcGxlLnRlc3QKMDAxNmNpZCB0eXBlID0gYWNjZXNzCjAwMjFjaWQgbm9uY2UgPSBkeGd3U0dqblVQVW5zUGxaCjAwMmZzaWduYXR1cmUgLXEWQrcmsEQBYnyp-6wy9chTD7GQPMTbAiWHF5IaSIEK';

describe("Synapse's token format", () => {
  it('accepts the check vectors and reads them as compatibility tokens', () => {
    expect(parseSynapseToken(VECTORS.access)).toBe('synapse_access');
    expect(parseSynapseToken(VECTORS.refresh)).toBe('synapse_refresh');
    expect(parseSynapseToken(VECTORS.nonAscii)).toBe('synapse_access');
    expect(parseToken(VECTORS.access)).toBe('compat_access');
    expect(parseToken(VECTORS.refresh)).toBe('compat_refresh');
  });

  it('generates what Synapse generates', () => {
    expect(generateSynapseToken('synapse_access', 'alice', 'abcdefghijklmnopqrst')).toBe(VECTORS.access);
    expect(generateSynapseToken('synapse_refresh', 'bob', 'ZYXWVUTSRQPONMLKJIHG')).toBe(VECTORS.refresh);
    expect(generateSynapseToken('synapse_access', 'élodie', 'QwErTyUiOpAsDfGhJkLz')).toBe(VECTORS.nonAscii);
  });

  it.each([
    ['wrong checksum', 'syt_YWxpY2U_abcdefghijklmnopqrst_1TMI8J'],
    ["MAS's digit order", 'syt_YWxpY2U_abcdefghijklmnopqrst_I8IMT1'],
    ['digits in the random part', 'syt_YWxpY2U_abcdefghijklmnopqrs1_1TMI8I'],
    ['short random part', 'syt_YWxpY2U_abcdefghij_1TMI8I'],
    ['unknown prefix', 'syx_YWxpY2U_abcdefghijklmnopqrst_1TMI8I'],
    ['trailing space', `${VECTORS.access} `],
    ['not a macaroon', 'MDAxZm9vYmFyYmF6'],
    ['macaroon-looking garbage', 'MDAx!!!!'],
  ])('refuses a malformed token (%s) without I/O', (_name, token) => {
    expect(parseSynapseToken(token)).toBeUndefined();
    expect(parseToken(token)).toBeUndefined();
  });

  it('recognises a macaroon by its location packet', () => {
    expect(parseSynapseToken(MACAROON)).toBe('synapse_access');
    expect(parseToken(MACAROON)).toBe('compat_access');
  });

  it("leaves Causeway's own formats to their own checksum", () => {
    expect(parseToken('mct_cxG6gZXyvelQWW9XqfNbm5KAQovodf_XvJz43')).toBe('compat_access');
    expect(parseToken('mct_cxG6gZXyvelQWW9XqfNbm5KAQovodf_XvJz44')).toBeUndefined();
  });
});
