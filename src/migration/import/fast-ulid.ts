import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const POOL_IDS = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

/**
 * ULIDs as storage/ulid.ts makes them (48-bit time, 80 random bits, Crockford base32), drawing the
 * random part from a pooled buffer: an import makes hundreds of thousands of ids, and one
 * randomBytes call per id cost more than the rest of making the rows.
 */
export function fastUlid(now: number): string {
  if (offset + 16 > pool.length) {
    pool = randomBytes(16 * POOL_IDS);
    offset = 0;
  }
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  let rand = '';
  for (let i = 0; i < 16; i++) rand += CROCKFORD[pool[offset + i]! & 31];
  offset += 16;
  return time + rand;
}
