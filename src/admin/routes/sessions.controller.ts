import { AdminController } from '../http/admin-controller.js';
import { z } from 'zod';
import { AdminService } from '../admin.service.js';
import type { AdminPrincipal } from '../http/admin-principal.js';
import { adminRoute, AdminRoute, Principal, Valid, type Input } from '../http/admin-route.js';
import { idParam, page, pageQuery, sessionView } from '../http/schemas.js';

const sessionFilters = {
  kind: z.enum(['oauth2', 'personal', 'compat', 'browser']).optional(),
  state: z.enum(['active', 'finished']).optional(),
  user: z.string().min(1).max(255).optional().meta({ description: 'A user id or localpart.' }),
  client: z.string().min(1).max(128).optional(),
  device: z.string().min(1).max(255).optional(),
  ip: z.string().min(1).max(64).optional().meta({ description: 'Last seen from this address.' }),
};

export const listSessions = adminRoute({
  method: 'get',
  path: 'sessions',
  operationId: 'listSessions',
  summary: 'List sessions of every kind (oauth2, personal, compat, browser)',
  description: 'Filters combine (AND); `client` and `device` only match the kinds that have them. Ordered by id across kinds.',
  tag: 'sessions',
  query: z.object({ ...pageQuery, ...sessionFilters }).strict(),
  response: page(sessionView),
});

export const getSession = adminRoute({
  method: 'get',
  path: 'sessions/:id',
  operationId: 'getSession',
  summary: 'Get a session of any kind',
  tag: 'sessions',
  params: idParam('id', 'A session id.'),
  response: sessionView,
});

export const endSession = adminRoute({
  method: 'post',
  path: 'sessions/:id/end',
  operationId: 'endSession',
  summary: 'End one session (its tokens are refused at once; its device leaves the homeserver)',
  tag: 'sessions',
  params: idParam('id', 'A session id.'),
  response: z.object({ ended: z.boolean().meta({ description: 'False when it had already ended.' }) }),
});

export const listPersonalTokens = adminRoute({
  method: 'get',
  path: 'personal-tokens',
  operationId: 'listPersonalTokens',
  summary: 'List personal access tokens (their sessions; the tokens themselves are never shown again)',
  tag: 'personal-tokens',
  query: z.object({ ...pageQuery, user: sessionFilters.user, state: sessionFilters.state }).strict(),
  response: page(sessionView),
});

export const revokePersonalToken = adminRoute({
  method: 'post',
  path: 'personal-tokens/:id/revoke',
  operationId: 'revokePersonalToken',
  summary: 'Revoke a personal access token',
  tag: 'personal-tokens',
  params: idParam('id', 'The personal token’s id (its session id).'),
  response: z.object({ revoked: z.boolean().meta({ description: 'False when it had already ended.' }) }),
});

@AdminController()
export class SessionsController {
  constructor(private readonly admin: AdminService) {}

  @AdminRoute(listSessions)
  list(@Valid(listSessions) { query: q }: Input<typeof listSessions>) {
    return this.admin.listSessions({ user: q.user, kinds: q.kind ? [q.kind] : undefined, state: q.state, clientId: q.client, deviceId: q.device, ip: q.ip }, { after: q.after, limit: q.limit });
  }

  @AdminRoute(getSession)
  get(@Valid(getSession) { params }: Input<typeof getSession>) {
    return this.admin.getSession(params.id as string);
  }

  @AdminRoute(endSession)
  async end(@Valid(endSession) { params }: Input<typeof endSession>, @Principal() p: AdminPrincipal) {
    return { ended: await this.admin.endSession(params.id as string, p.actor) };
  }

  @AdminRoute(listPersonalTokens)
  personalTokens(@Valid(listPersonalTokens) { query: q }: Input<typeof listPersonalTokens>) {
    return this.admin.listSessions({ user: q.user, kinds: ['personal'], state: q.state }, { after: q.after, limit: q.limit });
  }

  @AdminRoute(revokePersonalToken)
  async revoke(@Valid(revokePersonalToken) { params }: Input<typeof revokePersonalToken>, @Principal() p: AdminPrincipal) {
    return { revoked: await this.admin.revokePersonalToken(params.id as string, p.actor) };
  }
}
