import { describe, expect, it } from '@jest/globals';
import { ulid } from '../../../src/storage/ulid.js';

describe('ulid', () => {
  it('is 26 Crockford base32 characters with the time first', () => {
    const id = ulid(1_796_000_000_000);
    expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(ulid(1_796_000_000_001) > id).toBe(true);
  });

  it('sorts ids made in the same millisecond (or for an earlier one) in the order they were made', () => {
    const now = Date.now() + 60_000;
    const ids = Array.from({ length: 1000 }, () => ulid(now));
    ids.push(ulid(now - 5000), ulid(now - 1));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
