import { OAuth2RefusalError } from '../../refusal.error.js';
import type { AuthorizationCheck } from './authorization-context.js';
import { clientRefusal } from '../../clients/client-policy.js';

/** The client must be known and admitted by `policy.client_registration`. Never redirected: the redirect URI cannot be trusted without it. */
export const checkClient: AuthorizationCheck = async (ctx) => {
  const raw = ctx.params.client_id;
  if (Array.isArray(raw)) throw new OAuth2RefusalError('client_id_repeated', {}, { reason: 'duplicated_client_id' });
  const clientId = typeof raw === 'string' ? raw : '';
  if (!clientId) throw new OAuth2RefusalError('client_id_missing', {}, { reason: 'missing_client_id' });
  const client = await ctx.clients.find(clientId);
  if (!client) throw new OAuth2RefusalError('unknown_client', {}, { reason: 'unknown_client' });
  // A dynamic client the registration policy no longer admits (registered before it changed).
  const refusal = clientRefusal(ctx.config.policy, client);
  if (refusal) throw new OAuth2RefusalError('client_policy', { rule: 'policy.client_registration' }, { reason: 'client_policy', refusal });
  ctx.client = client;
  ctx.request.clientId = client.clientId;
};
