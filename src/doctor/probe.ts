import { connect as tlsConnect } from 'node:tls';

/** An HTTP answer as the doctor sees it: status, body, and the peer's clock from its Date header. */
export interface Probe {
  status: number;
  body: string;
  /** Peer clock minus ours, in ms (Date has 1 s resolution); undefined without a Date header. */
  skewMs?: number;
}

export const PROBE_TIMEOUT_MS = 5000;

/** GET (or `init`) with a timeout; rejects with a short reason (`ECONNREFUSED`, `timed out after 5000 ms`). */
export async function probe(url: string, init: RequestInit = {}): Promise<Probe> {
  const sent = Date.now();
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'manual', ...init, signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
  } catch (e) {
    throw new Error(reasonOf(e));
  }
  const received = Date.now();
  const body = await res.text();
  const date = res.headers.get('date');
  const peer = date ? Date.parse(date) : NaN;
  return { status: res.status, body, ...(Number.isNaN(peer) ? {} : { skewMs: peer - (sent + received) / 2 }) };
}

export function reasonOf(e: unknown): string {
  const err = e as { name?: string; code?: unknown; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return `no answer within ${PROBE_TIMEOUT_MS} ms`;
  return err?.cause?.code ?? (typeof err?.code === 'string' ? err.code : undefined) ?? err?.cause?.message ?? err?.message ?? String(e);
}

/** The expiry of the TLS certificate an https URL presents (undefined for http). */
export function tlsCertificateExpiry(url: string): Promise<Date | undefined> {
  const u = new URL(url);
  if (u.protocol !== 'https:') return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: u.hostname, port: Number(u.port || 443), servername: u.hostname, timeout: PROBE_TIMEOUT_MS }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve(cert?.valid_to ? new Date(cert.valid_to) : undefined);
    });
    socket.on('timeout', () => socket.destroy(new Error(`no TLS handshake within ${PROBE_TIMEOUT_MS} ms`)));
    socket.on('error', (e) => reject(new Error(reasonOf(e))));
  });
}

/** Certificates expiring within this many days are a ✖: renewing takes a change at the IdP, and time. */
export const CERT_WARN_DAYS = 30;

/** `expired on 2021-01-01`, `expires on … (in 12 days)`, or undefined when it has more than CERT_WARN_DAYS left. */
export function expiryProblem(notAfter: Date, now = Date.now()): string | undefined {
  const days = Math.floor((notAfter.getTime() - now) / 86_400_000);
  const day = notAfter.toISOString().slice(0, 10);
  if (notAfter.getTime() <= now) return `expired on ${day}`;
  if (days < CERT_WARN_DAYS) return `expires on ${day} (in ${days} day${days === 1 ? '' : 's'})`;
  return undefined;
}
