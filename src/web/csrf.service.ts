import { createHmac } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import Tokens from '@fastify/csrf';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { EncryptionKey } from '../crypto/crypto.module.js';
import { CSRF_COOKIE, cookieOptions, readSignedCookie } from './cookies.js';
import { PageError } from './page-error.js';

/** Name of the hidden form field carrying the token. */
export const CSRF_FIELD = '_csrf';

/**
 * CSRF protection for every form (@fastify/csrf, the token library behind @fastify/csrf-protection):
 * a per-browser secret in a signed cookie, and form tokens derived from it with an HMAC over what
 * the form acts on (the login id, the browser session id). A token from another login, another
 * session or another browser does not verify, so a tossed cookie alone is useless.
 */
@Injectable()
export class CsrfService {
  private readonly tokens: Tokens.TokensUserinfo;
  /** Secrets created during a request (several forms on one page share the one cookie it sets). */
  private readonly fresh = new WeakMap<FastifyRequest, string>();

  constructor(
    key: EncryptionKey,
    @Inject(CONFIG) private readonly config: GatewayConfig,
  ) {
    const hmacKey = createHmac('sha256', key.value).update('causeway/csrf').digest();
    // The typings expose only the overload without userInfo; the library supports both (Tokens.TokensUserinfo).
    this.tokens = Tokens({ userInfo: true, hmacKey }) as unknown as Tokens.TokensUserinfo;
  }

  /** A token for a form bound to `scope` (creates the browser's secret on first use). */
  token(request: FastifyRequest, reply: FastifyReply, scope: string): string {
    const existing = readSignedCookie(request, CSRF_COOKIE) ?? this.fresh.get(request);
    if (existing) return this.tokens.create(existing, scope);
    const secret = this.tokens.secretSync();
    this.fresh.set(request, secret);
    reply.setCookie(CSRF_COOKIE, secret, cookieOptions(this.config));
    return this.tokens.create(secret, scope);
  }

  /** Throws a 403 page unless the submitted form carries a valid token for `scope`. */
  verify(request: FastifyRequest, scope: string): void {
    const secret = readSignedCookie(request, CSRF_COOKIE);
    const body = request.body as Record<string, unknown> | undefined;
    const token = typeof body?.[CSRF_FIELD] === 'string' ? (body[CSRF_FIELD] as string) : undefined;
    if (!secret || !token || !this.tokens.verify(secret, token, scope)) {
      throw new PageError(403, 'error.title.form_expired', 'error.form_expired', {
        reason: secret ? 'csrf_token_invalid' : 'csrf_secret_missing',
      });
    }
  }
}
