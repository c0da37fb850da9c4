import { lookup } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { AvatarSkipped, checkImage, type AvatarImage } from './avatar-image.js';

/**
 * Fetches an avatar URL given by an IdP, which is input from outside: https only (plain http and
 * private, loopback, link-local or otherwise non-public addresses only with dev_mode, which the
 * tests run in on loopback), the address checked on the connection actually made (the lookup
 * of the request itself, so DNS cannot answer differently the second time), at most
 * MAX_REDIRECTS redirects each checked the same way, one timeout for the whole fetch, the body
 * read up to `maxBytes`, and the type decided by the first bytes.
 */
const MAX_REDIRECTS = 3;

/** Addresses an avatar URL may not reach outside dev_mode (RFC 6890 special-purpose ranges and multicast). */
const NON_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  // ::/96 also holds the deprecated IPv4-compatible addresses (::7f00:1); ::ffff:0:0:0/96 is SIIT,
  // 2002::/16 6to4, 2001::/23 Teredo and other IETF assignments (RFC 6890), fec0::/10 the old
  // site-local range: each can name a non-public IPv4 host or network in another spelling.
  ['::', 96],
  ['::1', 128],
  ['::ffff:0:0:0', 96],
  ['64:ff9b::', 96],
  ['2001::', 23],
  ['2002::', 16],
  ['fec0::', 10],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv6');
}

/** Whether an address is loopback, private, link-local or otherwise not on the public internet. */
export function isNonPublicAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return NON_PUBLIC.check(mapped[1]!, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return NON_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export interface AvatarFetchOptions {
  maxBytes: number;
  timeoutMs: number;
  /** dev_mode: plain http and non-public addresses allowed. */
  devMode: boolean;
}

/** Fetches and checks an avatar. Throws AvatarSkipped with the reason. */
export async function fetchAvatar(url: string, opts: AvatarFetchOptions): Promise<AvatarImage> {
  const deadline = Date.now() + opts.timeoutMs;
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const target = checkedUrl(current, opts.devMode);
    const res = await get(target, opts, deadline);
    if (res.status >= 300 && res.status < 400 && res.location) {
      current = new URL(res.location, target).href;
      continue;
    }
    if (res.status !== 200) throw new AvatarSkipped('http_status', `GET answered ${res.status}`);
    return checkImage(res.body!, opts.maxBytes);
  }
  throw new AvatarSkipped('too_many_redirects', `more than ${MAX_REDIRECTS} redirects`);
}

function checkedUrl(raw: string, devMode: boolean): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new AvatarSkipped('bad_url', 'not a URL');
  }
  if (u.username || u.password) throw new AvatarSkipped('bad_url', 'URL with credentials');
  if (u.protocol !== 'https:' && !(devMode && u.protocol === 'http:')) throw new AvatarSkipped('insecure_url', `${u.protocol} URL (https only outside dev_mode)`);
  return u;
}

/** The request's own DNS lookup, refusing non-public addresses (outside dev_mode) for every address it would connect to. */
function guardedLookup(devMode: boolean): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 4);
      const list = addresses as unknown as { address: string; family: number }[];
      if (!devMode && list.some((a) => isNonPublicAddress(a.address))) {
        return callback(Object.assign(new Error(`${hostname} resolves to a non-public address`), { code: 'AVATAR_PRIVATE_ADDRESS' }), '', 4);
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: unknown) => void)(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  };
}

interface Answer {
  status: number;
  location?: string;
  body?: Buffer;
}

function get(url: URL, opts: AvatarFetchOptions, deadline: number): Promise<Answer> {
  const remaining = deadline - Date.now();
  if (remaining <= 0) return Promise.reject(new AvatarSkipped('timeout', `no image within ${opts.timeoutMs} ms`));
  // A literal address in the URL is checked here (the lookup is not called for it).
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && !opts.devMode && isNonPublicAddress(host)) return Promise.reject(new AvatarSkipped('private_address', 'a non-public address'));
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (f: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      f();
    };
    const req = request(url, { method: 'GET', lookup: guardedLookup(opts.devMode), headers: { accept: 'image/png, image/jpeg, image/gif, image/webp', 'user-agent': 'Causeway' } }, (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        res.resume();
        return finish(() => resolve({ status, ...(res.headers.location ? { location: res.headers.location } : {}) }));
      }
      if (status !== 200) {
        res.resume();
        return finish(() => resolve({ status }));
      }
      const declared = Number(res.headers['content-length'] ?? 0);
      if (declared > opts.maxBytes) {
        req.destroy();
        return finish(() => reject(new AvatarSkipped('too_large', `${declared} bytes announced, over the ${opts.maxBytes}-byte limit`)));
      }
      const chunks: Buffer[] = [];
      let total = 0;
      res.on('data', (c: Buffer) => {
        total += c.length;
        if (total > opts.maxBytes) {
          req.destroy();
          finish(() => reject(new AvatarSkipped('too_large', `over the ${opts.maxBytes}-byte limit`)));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => finish(() => resolve({ status, body: Buffer.concat(chunks) })));
      res.on('error', (e) => finish(() => reject(new AvatarSkipped('fetch_failed', e.message))));
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish(() => reject(new AvatarSkipped('timeout', `no image within ${opts.timeoutMs} ms`)));
    }, remaining);
    req.on('error', (e: Error & { code?: string }) => finish(() => reject(e.code === 'AVATAR_PRIVATE_ADDRESS' ? new AvatarSkipped('private_address', e.message) : new AvatarSkipped('fetch_failed', e.code ?? e.message))));
    req.end();
  });
}
