import { PageError } from '../../../web/page-error.js';
import type { AuthorizationCheck } from './authorization-context.js';

/** The client must be known. Never redirected: the redirect URI cannot be trusted without it. */
export const checkClient: AuthorizationCheck = async (ctx) => {
  const raw = ctx.params.client_id;
  if (Array.isArray(raw)) throw new PageError(400, 'error.title.invalid_request', 'error.client_id_repeated', { reason: 'duplicated_client_id' });
  const clientId = typeof raw === 'string' ? raw : '';
  if (!clientId) throw new PageError(400, 'error.title.invalid_request', 'error.client_id_missing', { reason: 'missing_client_id' });
  const client = await ctx.clients.find(clientId);
  if (!client) throw new PageError(400, 'error.title.unknown_application', 'error.unknown_client', { reason: 'unknown_client' });
  ctx.client = client;
  ctx.request.clientId = client.clientId;
};
