import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import type { TrustProxySetting } from '../config/sections/http.config.js';

/** proxy-addr's question: is the address at hop `i` (0 = the socket peer) a proxy we trust? */
export type TrustFunction = (addr: string, i: number) => boolean;

/**
 * `http.trust_proxy` as a trust function, or undefined when no proxy is trusted. A hop count is a
 * function of our own: Fastify fails closed on a bare number (its hop-count mode cannot vet the
 * peer), which would silently ignore X-Forwarded-For.
 */
export function trustFunction(setting: TrustProxySetting): TrustFunction | undefined {
  if (setting === false) return undefined;
  const hops = setting === true ? 1 : setting;
  if (typeof hops === 'number') return (_addr, i) => i < hops;
  return proxyAddr.compile(hops);
}

/**
 * The client address of a request that does not go through Fastify (the introspection fast path),
 * judged as Fastify judges `request.ip`.
 */
export function clientAddress(req: IncomingMessage, trust: TrustFunction | undefined): string {
  if (!trust) return req.socket.remoteAddress ?? '';
  const all = proxyAddr.all(req, trust);
  return all[all.length - 1] ?? '';
}
