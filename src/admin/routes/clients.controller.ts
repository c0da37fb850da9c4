import { AdminController } from '../http/admin-controller.js';
import { z } from 'zod';
import { AdminService } from '../admin.service.js';
import type { AdminPrincipal } from '../http/admin-principal.js';
import { adminRoute, AdminRoute, Principal, Valid, type Input } from '../http/admin-route.js';
import { idParam, nullableTimestamp, page, pageQuery, timestamp } from '../http/schemas.js';

const clientParam = idParam('client', 'A client_id.');
const clientView = z
  .object({
    client_id: z.string(),
    origin: z.enum(['static', 'dynamic']),
    client_name: z.string().nullable(),
    redirect_uris: z.array(z.string()),
    grant_types: z.array(z.string()),
    token_endpoint_auth_method: z.string(),
    metadata: z.record(z.string(), z.unknown()),
    created_at: timestamp,
    last_used_at: nullableTimestamp,
  })
  .meta({ id: 'Client' });

export const listClients = adminRoute({
  method: 'get',
  path: 'clients',
  operationId: 'listClients',
  summary: 'List OAuth clients (static and dynamically registered), by client_id',
  tag: 'clients',
  query: z.object(pageQuery).strict(),
  response: page(clientView),
});

export const getClient = adminRoute({ method: 'get', path: 'clients/:client', operationId: 'getClient', summary: 'Get an OAuth client', tag: 'clients', params: clientParam, response: clientView });

export const deleteClient = adminRoute({
  method: 'delete',
  path: 'clients/:client',
  operationId: 'deleteClient',
  summary: 'Delete a dynamically registered client; its sessions end',
  description: 'Static clients come from the configuration (409 CAUSEWAY_WRONG_STATE).',
  tag: 'clients',
  params: clientParam,
  response: z.object({ deleted: z.boolean(), sessions_ended: z.number().int() }),
});

export const endClientSessions = adminRoute({
  method: 'post',
  path: 'clients/:client/sessions/end',
  operationId: 'endClientSessions',
  summary: 'End every session of a client',
  tag: 'clients',
  params: clientParam,
  response: z.object({ ended: z.number().int() }),
});

@AdminController()
export class ClientsController {
  constructor(private readonly admin: AdminService) {}

  @AdminRoute(listClients)
  list(@Valid(listClients) { query }: Input<typeof listClients>) {
    return this.admin.listClients({ after: query.after, limit: query.limit });
  }

  @AdminRoute(getClient)
  get(@Valid(getClient) { params }: Input<typeof getClient>) {
    return this.admin.getClient(params.client as string);
  }

  @AdminRoute(deleteClient)
  delete(@Valid(deleteClient) { params }: Input<typeof deleteClient>, @Principal() p: AdminPrincipal) {
    return this.admin.deleteClient(params.client as string, p.actor);
  }

  @AdminRoute(endClientSessions)
  endSessions(@Valid(endClientSessions) { params }: Input<typeof endClientSessions>, @Principal() p: AdminPrincipal) {
    return this.admin.endClientSessions(params.client as string, p.actor);
  }
}
