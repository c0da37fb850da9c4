import type { FastifyReply } from 'fastify';
import type { MessageKey, Msg } from './i18n/message.js';
import { PAGE_HEADERS, type PageRenderer } from './page-renderer.js';

/**
 * An error page in the request's language (`title` and `message` are catalog messages). Should the
 * error page itself fail to render, a bare page still answers (with the status), never a hang.
 */
export async function sendPage(reply: FastifyReply, renderer: PageRenderer, status: number, title: Msg | MessageKey, message: Msg | MessageKey, requestId?: string) {
  try {
    await renderer.send(reply, 'error', status, { title, message, request_id: requestId });
  } catch {
    if (!reply.sent) await reply.status(status).headers(PAGE_HEADERS).send(`<!doctype html><title>${status}</title><p>Error ${status}</p>`);
  }
}
