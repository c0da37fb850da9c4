import { createHash, hash, randomInt, timingSafeEqual } from 'node:crypto';
import { parseSynapseToken } from './synapse-token-format.js';

/**
 * MAS-compatible opaque tokens: `<prefix>_<30 random [A-Za-z0-9]>_<6-char checksum>`. The checksum is
 * the CRC-32 (ISO-HDLC) of `<prefix>_<random>` in base62 (0-9A-Za-z), least significant digit first,
 * left-padded with "0". Secret scanners and log redaction recognise the shape, and a malformed
 * token is refused before any database read.
 */
export type TokenKind = 'access' | 'refresh' | 'compat_access' | 'compat_refresh' | 'personal';
export const TOKEN_PREFIX: Record<TokenKind, string> = {
  access: 'mat',
  refresh: 'mar',
  compat_access: 'mct',
  compat_refresh: 'mcr',
  /** Personal access tokens (issued by an admin for a bot or script), as MAS names them. */
  personal: 'mpt',
};
const KIND_OF_PREFIX = new Map(Object.entries(TOKEN_PREFIX).map(([k, p]) => [p, k as TokenKind]));

const ALPHANUM = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const TOKEN_RE = /^(mat|mar|mct|mcr|mpt)_([A-Za-z0-9]{30})_([A-Za-z0-9]{6})$/;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(s: string): number {
  let c = 0xffffffff;
  for (let i = 0; i < s.length; i++) c = CRC_TABLE[(c ^ s.charCodeAt(i)) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function checksum(body: string): string {
  let n = crc32(body);
  let out = '';
  while (n > 0) {
    out += ALPHANUM[n % 62];
    n = Math.floor(n / 62);
  }
  return out.padStart(6, '0');
}

export function randomAlphanumeric(length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += ALPHANUM[randomInt(62)];
  return s;
}

export function generateToken(kind: TokenKind): string {
  const body = `${TOKEN_PREFIX[kind]}_${randomAlphanumeric(30)}`;
  return `${body}_${checksum(body)}`;
}

/**
 * The token's kind if it is well formed with a valid checksum, else undefined. No I/O.
 *
 * Tokens Synapse issued before the switch (`syt_`, `syr_`, old macaroons; synapse-token-format.ts)
 * are compatibility tokens: `causeway import synapse` stores their hashes in compat sessions. They
 * are checked against Synapse's own format and checksum; Causeway's formats keep theirs.
 */
export function parseToken(token: string): TokenKind | undefined {
  const m = TOKEN_RE.exec(token);
  if (!m) {
    const synapse = parseSynapseToken(token);
    return synapse === 'synapse_access' ? 'compat_access' : synapse === 'synapse_refresh' ? 'compat_refresh' : undefined;
  }
  if (checksum(`${m[1]}_${m[2]}`) !== m[3]) return undefined;
  return KIND_OF_PREFIX.get(m[1]!);
}

/** Tokens, codes and secrets are stored only as this hash. */
export function sha256Hex(value: string): string {
  // One-shot hash: about a third cheaper than createHash().update().digest() on the introspection hot path.
  return hash('sha256', value, 'hex');
}

export function sha256Base64Url(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/** Constant-time comparison of two secrets (of any lengths). */
export function secretsEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}
