import { currentRequest } from '../http/request-context.js';
import { HttpException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { OAuthError } from '../oauth2/errors.js';
import { MatrixError } from '../matrix/matrix-error.js';
import type { PageRenderer } from '../web/page-renderer.js';
import type { MessageKey } from '../web/i18n/message.js';
import { sendPage } from '../web/send-page.js';
import { pageErrorOf } from '../login/domain-error-pages.js';
import { AuthorizationRedirectError } from '../oauth2/authorize/authorization-redirect.error.js';

export type ErrorStyle = 'oauth' | 'matrix' | 'json' | 'html';

/** Which wire format an error on this path must take: each protocol answers in its own shape. */
export function errorStyleFor(url: string): ErrorStyle {
  const path = url.split('?')[0]!;
  if (/^\/_matrix\/client\/[^/]+\/auth_metadata$/.test(path) || path.startsWith('/_matrix/client/unstable/org.matrix.msc2965/')) return 'oauth';
  // The legacy SSO redirect is a page a browser opens, not a JSON API.
  if (/^\/_matrix\/client\/[^/]+\/login\/sso\/redirect(\/|$)/.test(path)) return 'html';
  // The admin API answers `{errcode, error}` too (unknown routes, unparsable bodies included).
  if (path.startsWith('/_matrix/') || path.startsWith('/api/admin/')) return 'matrix';
  if (path.startsWith('/oauth2/') || path.startsWith('/.well-known/') || /^\/upstream\/[^/]+\/backchannel-logout$/.test(path)) return 'oauth';
  if (path.startsWith('/api/') || path.startsWith('/health') || path === '/metrics') return 'json';
  return 'html';
}

interface FrameworkError {
  statusCode?: number;
  code?: string;
  message?: string;
}

/** Status and wording of an error that is not one of ours (Nest HttpException, Fastify parser errors). */
function classify(err: unknown): { status: number; reason: string; expose: boolean; matrixCode?: string } {
  // Nest wraps Fastify's parser errors (FST_ERR_CTP_*) in an HttpException with the original as cause.
  const cause = err instanceof HttpException ? (err.cause as FrameworkError | undefined) : undefined;
  if (err instanceof HttpException && !cause?.code) return { status: err.getStatus(), reason: err.message, expose: err.getStatus() < 500 };
  const fe = cause ?? (err as FrameworkError);
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    switch (fe.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return { status: 413, reason: 'request body too large', expose: true };
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return { status: 415, reason: 'unsupported content type', expose: true };
      case 'FST_ERR_RATE_LIMITED':
        return { status: 429, reason: 'too many requests', expose: true };
      case 'CW_CONTROL_CHARACTER':
        return { status: 400, reason: fe.message ?? 'control character in the request', expose: true, matrixCode: 'M_INVALID_PARAM' };
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return { status: 400, reason: 'body is not valid JSON', expose: true };
      default:
        return { status: fe.statusCode, reason: fe.code === 'FST_ERR_NOT_FOUND' ? 'not found' : 'malformed request', expose: true };
    }
  }
  return { status: 500, reason: 'internal error', expose: false };
}

const MATRIX_CODE: Record<number, string> = { 400: 'M_BAD_JSON', 401: 'M_MISSING_TOKEN', 403: 'M_FORBIDDEN', 404: 'M_UNRECOGNIZED', 405: 'M_UNRECOGNIZED', 413: 'M_TOO_LARGE', 429: 'M_LIMIT_EXCEEDED' };

/**
 * Writes any error in the protocol's own shape. Unknown errors become a bare 500 (server_error /
 * M_UNKNOWN / a generic page) and are logged with their stack; nothing internal reaches the client.
 */
export async function sendError(reply: FastifyReply, request: FastifyRequest, err: unknown, renderer: PageRenderer, logger: Logger): Promise<void> {
  if (reply.sent) return;
  const style = errorStyleFor(request.url);
  // Inside the request's context the logger adds reqId itself; an error raised before it (body parsing) names it here.
  const log = currentRequest() ? logger : logger.child({ reqId: request.id });

  if (err instanceof AuthorizationRedirectError) {
    // An /authorize error the client must learn about: back to its redirect URI (RFC 6749 §4.1.2.1).
    log.info({ error: err.error.code, path: request.url.split('?')[0] }, 'authorization error redirected');
    await reply.status(303).header('Cache-Control', 'no-store').header('Location', err.location).send();
    return;
  }
  if (err instanceof OAuthError) {
    log.info({ error: err.code, status: err.status, path: request.url.split('?')[0] }, 'oauth error');
    if (err.status === 401 && err.code === 'invalid_client') reply.header('WWW-Authenticate', 'Basic realm="causeway"');
    await reply.status(err.status).header('Cache-Control', 'no-store').send(err.toJSON());
    return;
  }
  if (err instanceof MatrixError) {
    await reply.status(err.status).send(err.toJSON());
    return;
  }
  const page = pageErrorOf(err);
  if (page) {
    log.info({ status: page.status, title: page.title.key, message: page.userMessage.key, ...page.details }, 'page error');
    await sendPage(reply, renderer, page.status, page.title, page.userMessage, request.id);
    return;
  }

  const { status, reason, expose, matrixCode } = classify(err);
  if (status >= 500) log.error({ err }, 'unhandled error');
  else log.info({ status, reason, path: request.url.split('?')[0] }, 'request refused');

  switch (style) {
    case 'oauth': {
      const code = status >= 500 ? 'server_error' : status === 404 ? 'not_found' : status === 429 ? 'temporarily_unavailable' : 'invalid_request';
      await reply
        .status(status === 415 ? 400 : status)
        .header('Cache-Control', 'no-store')
        .send(expose ? { error: code, error_description: reason } : { error: code });
      return;
    }
    case 'matrix': {
      const errcode = status >= 500 ? 'M_UNKNOWN' : reason === 'body is not valid JSON' ? 'M_NOT_JSON' : (matrixCode ?? MATRIX_CODE[status] ?? 'M_UNKNOWN');
      await reply.status(status).send({ errcode, error: expose ? reason : 'Internal server error' });
      return;
    }
    case 'json':
      await reply.status(status).send({ error: status >= 500 ? 'server_error' : 'invalid_request', error_description: expose ? reason : undefined });
      return;
    default: {
      const title: MessageKey =
        status === 404
          ? 'error.title.page_not_found'
          : status === 413
            ? 'error.title.request_too_large'
            : status === 429
              ? 'error.title.too_many_attempts'
              : status >= 500
                ? 'error.title.something_went_wrong'
                : 'error.title.bad_request';
      const message: MessageKey = status === 404 ? 'error.not_found' : status === 413 ? 'error.request_too_large' : status === 429 ? 'error.too_many_requests' : status >= 500 ? 'error.internal' : 'error.not_understood';
      await sendPage(reply, renderer, status, title, message, request.id);
    }
  }
}
