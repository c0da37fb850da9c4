import { crc32 } from 'node:zlib';

/**
 * Tokens Synapse issued before the switch to Causeway, accepted once `causeway import synapse`
 * copied their hashes into compatibility sessions (Synapse `synapse/handlers/auth.py`,
 * `generate_access_token` / `generate_refresh_token`, 1.157):
 *
 *   `syt_<unpadded base64 of the localpart>_<20 random [A-Za-z]>_<CRC-32 in base62>` (access)
 *   `syr_…` (refresh), same shape.
 *
 * The checksum is the CRC-32 of everything before the last `_`, written in base62 (0-9A-Za-z) with
 * the MOST significant digit first, left-padded with "0" to 6 characters (Synapse's base62_encode;
 * MAS's own tokens write the least significant digit first). A token whose checksum does not match
 * is refused without any database read, as Synapse refuses it.
 *
 * Synapse before 1.34 issued macaroons instead; a long-lived session may still carry one. They
 * carry no checksum: a macaroon is recognised by its first packet, `location …` (as MAS does).
 */
export type SynapseTokenKind = 'synapse_access' | 'synapse_refresh';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SYNAPSE_TOKEN_RE = /^(syt|syr)_([A-Za-z0-9+/]+)_([A-Za-z]{20})_([0-9A-Za-z]{6})$/;
/** Macaroons of Synapse's era are a few hundred characters; anything far longer is not one. */
const MAX_MACAROON_LENGTH = 4096;
const MACAROON_RE = /^MDAx[A-Za-z0-9_-]+={0,2}$/;

/** Synapse's base62_encode(n, minwidth=6): most significant digit first. */
export function synapseChecksum(body: string): string {
  let n = crc32(body) >>> 0;
  let out = '';
  while (n > 0) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out.padStart(6, '0');
}

/** The kind of a Synapse-issued token if it is well formed (checksum included), else undefined. No I/O. */
export function parseSynapseToken(token: string): SynapseTokenKind | undefined {
  if (token.startsWith('MDAx')) return isLikelyMacaroon(token) ? 'synapse_access' : undefined;
  const m = SYNAPSE_TOKEN_RE.exec(token);
  if (!m) return undefined;
  if (synapseChecksum(`${m[1]}_${m[2]}_${m[3]}`) !== m[4]) return undefined;
  return m[1] === 'syt' ? 'synapse_access' : 'synapse_refresh';
}

/** A serialised macaroon (v1, base64url): its first packet is `<4 hex digits>location `. */
function isLikelyMacaroon(token: string): boolean {
  if (token.length > MAX_MACAROON_LENGTH || !MACAROON_RE.test(token)) return false;
  const head = Buffer.from(token.slice(0, 20), 'base64url').toString('latin1');
  return /^[0-9a-f]{4}location /.test(head);
}

/** A token in Synapse's format (tests and benchmarks stand in for Synapse with it). */
export function generateSynapseToken(kind: SynapseTokenKind, localpart: string, random: string): string {
  const b64 = Buffer.from(localpart, 'utf8').toString('base64').replace(/=+$/, '');
  const body = `${kind === 'synapse_access' ? 'syt' : 'syr'}_${b64}_${random}`;
  return `${body}_${synapseChecksum(body)}`;
}
