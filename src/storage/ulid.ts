import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID: 48-bit millisecond time + 80 random bits, Crockford base32, sortable by creation time. */
export function ulid(now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(16);
  let rand = '';
  for (let i = 0; i < 16; i++) rand += CROCKFORD[bytes[i]! & 31];
  return time + rand;
}

const ULID_SHAPE = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Whether `s` has the shape of an id `ulid()` makes (every row id Causeway issues). */
export function isUlid(s: string): boolean {
  return ULID_SHAPE.test(s);
}
