import { PageError } from '../../../web/page-error.js';
import type { AuthorizationCheck } from './authorization-context.js';
import { clientRefusal } from '../../clients/client-policy.js';

/** The client must be known and admitted by `policy.client_registration`. Never redirected: the redirect URI cannot be trusted without it. */
export const checkClient: AuthorizationCheck = async (ctx) => {
  const raw = ctx.params.client_id;
  if (Array.isArray(raw)) throw new PageError(400, 'Invalid request', 'The application sent client_id more than once.', { reason: 'duplicated_client_id' });
  const clientId = typeof raw === 'string' ? raw : '';
  if (!clientId) throw new PageError(400, 'Invalid request', 'The application did not say who it is (client_id is missing).', { reason: 'missing_client_id' });
  const client = await ctx.clients.find(clientId);
  if (!client) throw new PageError(400, 'Unknown application', 'This application is not registered here. Please try signing in again from the app.', { reason: 'unknown_client' });
  // A dynamic client the registration policy no longer admits (registered before it changed).
  const refusal = clientRefusal(ctx.config.policy, client);
  if (refusal) throw new PageError(403, 'Application not allowed', `This application may not sign in here: ${refusal}.`, { reason: 'client_policy' });
  ctx.client = client;
  ctx.request.clientId = client.clientId;
};
