import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Small HTTP helpers shared by the compatibility layer's endpoints.
 */

/** The raw body the compat routes' catch-all parser hands over (undefined when there is none). */
export function rawBody(req: FastifyRequest): Buffer | undefined {
  return Buffer.isBuffer(req.body) ? req.body : undefined;
}

export type BearerToken = { ok: true; token: string } | { ok: false; reason: 'missing' | 'malformed' };

/** `Authorization: Bearer <token>` only (never `?access_token=`, as MAS). */
export function bearerToken(authorization: string | undefined): BearerToken {
  if (authorization === undefined || authorization === '') return { ok: false, reason: 'missing' };
  const m = /^Bearer +(\S+)\s*$/i.exec(authorization);
  return m ? { ok: true, token: m[1]! } : { ok: false, reason: 'malformed' };
}

/** A JSON answer of the client-server API (tokens inside: never cached). */
export function sendJson(reply: FastifyReply, status: number, body: unknown): void {
  void reply.status(status).header('Cache-Control', 'no-store').type('application/json').send(JSON.stringify(body));
}
