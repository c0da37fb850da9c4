import { AdminController } from '../http/admin-controller.js';
import { z } from 'zod';
import { AdminService } from '../admin.service.js';
import type { AdminPrincipal } from '../http/admin-principal.js';
import { adminRoute, AdminRoute, Principal, Valid, type Input } from '../http/admin-route.js';
import { linkView, page, pageQuery, queryBool, sessionView, timestamp, userParam, userView } from '../http/schemas.js';

const TAG = 'users';
const withEnded = userView.extend({ sessions_ended: z.number().int() });

export const listUsers = adminRoute({
  method: 'get',
  path: 'users',
  operationId: 'listUsers',
  summary: 'List and search users',
  description: 'Filters combine (AND). Ordered by id (creation order), cursor-paginated.',
  tag: TAG,
  query: z
    .object({
      ...pageQuery,
      localpart: z.string().min(1).max(255).optional().meta({ description: 'Localpart prefix.' }),
      email: z.string().min(1).max(320).optional().meta({ description: 'One of the user’s email addresses (exact, case-insensitive).' }),
      provider: z.string().min(1).max(64).optional().meta({ description: 'Linked to this upstream provider.' }),
      subject: z.string().min(1).max(512).optional().meta({ description: 'Linked with this upstream subject (at `provider` when given).' }),
      status: z.enum(['active', 'locked', 'deactivated']).optional(),
      admin: queryBool.optional().meta({ description: 'Has the admin right.' }),
    })
    .strict(),
  response: page(userView),
});

export const createUser = adminRoute({
  method: 'post',
  path: 'users',
  operationId: 'createUser',
  summary: 'Create (pre-provision) a user',
  description:
    'The account exists before its owner signs in; with `links`, their first sign-in through that provider lands on it. The homeserver is told through the outbox. ' +
    'The localpart must be free here and (unless `skip_homeserver_check`) at the homeserver.',
  tag: TAG,
  body: z
    .object({
      localpart: z.string().min(1).max(255),
      display_name: z.string().min(1).max(256).nullable().optional(),
      emails: z.array(z.email().max(320)).max(20).optional(),
      links: z
        .array(z.object({ provider: z.string().min(1).max(64), subject: z.string().min(1).max(512) }).strict())
        .max(20)
        .optional(),
      admin: z.boolean().optional().meta({ description: 'May request urn:synapse:admin:*.' }),
      skip_homeserver_check: z.boolean().optional(),
    })
    .strict(),
  response: userView,
  status: 201,
});

export const getUser = adminRoute({
  method: 'get',
  path: 'users/:user',
  operationId: 'getUser',
  summary: 'Get a user (by id or localpart), with emails, links and the number of live sessions',
  tag: TAG,
  params: userParam,
  response: userView.extend({ emails: z.array(z.string()), links: z.array(linkView), active_sessions: z.number().int() }),
});

export const lockUser = adminRoute({
  method: 'post',
  path: 'users/:user/lock',
  operationId: 'lockUser',
  summary: 'Lock a user: tokens refused at once, every session ends, the homeserver records the lock',
  tag: TAG,
  params: userParam,
  response: withEnded,
});

export const unlockUser = adminRoute({ method: 'post', path: 'users/:user/unlock', operationId: 'unlockUser', summary: 'Unlock a user', tag: TAG, params: userParam, response: userView });

export const deactivateUser = adminRoute({
  method: 'post',
  path: 'users/:user/deactivate',
  operationId: 'deactivateUser',
  summary: 'Deactivate a user: every session ends, the homeserver deactivates the account (and erases it with `erase`)',
  tag: TAG,
  params: userParam,
  body: z.object({ erase: z.boolean().default(true) }).strict(),
  response: withEnded,
});

export const reactivateUser = adminRoute({
  method: 'post',
  path: 'users/:user/reactivate',
  operationId: 'reactivateUser',
  summary: 'Reactivate a deactivated user (the homeserver gets reactivate_user, after the user’s earlier events)',
  tag: TAG,
  params: userParam,
  response: userView,
});

export const setAdmin = adminRoute({
  method: 'post',
  path: 'users/:user/set-admin',
  operationId: 'setUserAdmin',
  summary: 'Set or unset the per-user admin flag (taking the right away ends sessions holding an admin scope)',
  tag: TAG,
  params: userParam,
  body: z.object({ admin: z.boolean() }).strict(),
  response: withEnded,
});

export const setDisplayName = adminRoute({
  method: 'post',
  path: 'users/:user/set-displayname',
  operationId: 'setUserDisplayName',
  summary: 'Set (or clear, with null) the display name; the homeserver follows through the outbox',
  tag: TAG,
  params: userParam,
  body: z.object({ display_name: z.string().min(1).max(256).nullable() }).strict(),
  response: userView,
});

export const userEmails = adminRoute({
  method: 'get',
  path: 'users/:user/emails',
  operationId: 'listUserEmails',
  summary: 'List a user’s email addresses',
  tag: TAG,
  params: userParam,
  response: z.object({ data: z.array(z.object({ id: z.string(), email: z.string(), created_at: timestamp })) }),
});

export const userSessions = adminRoute({
  method: 'get',
  path: 'users/:user/sessions',
  operationId: 'listUserSessions',
  summary: 'List a user’s sessions (every kind)',
  tag: TAG,
  params: userParam,
  query: z
    .object({
      ...pageQuery,
      kind: z.enum(['oauth2', 'personal', 'compat', 'browser']).optional(),
      state: z.enum(['active', 'finished']).optional(),
      client: z.string().min(1).max(128).optional(),
      device: z.string().min(1).max(255).optional(),
      ip: z.string().min(1).max(64).optional(),
    })
    .strict(),
  response: page(sessionView),
});

export const endUserSessions = adminRoute({
  method: 'post',
  path: 'users/:user/sessions/end',
  operationId: 'endUserSessions',
  summary: 'End every session of a user (sign out everywhere)',
  tag: TAG,
  params: userParam,
  response: z.object({ ended: z.number().int() }),
});

export const userLinks = adminRoute({
  method: 'get',
  path: 'users/:user/links',
  operationId: 'listUserLinks',
  summary: 'List a user’s upstream links',
  tag: 'links',
  params: userParam,
  response: z.object({ data: z.array(linkView) }),
});

export const addLink = adminRoute({
  method: 'post',
  path: 'users/:user/links',
  operationId: 'addUserLink',
  summary: 'Link an upstream identity (provider + subject) to a user',
  tag: 'links',
  params: userParam,
  body: z.object({ provider: z.string().min(1).max(64), subject: z.string().min(1).max(512) }).strict(),
  response: linkView,
  status: 201,
});

export const renameDevice = adminRoute({
  method: 'post',
  path: 'users/:user/devices/:device/rename',
  operationId: 'renameDevice',
  summary: 'Rename a live device of a user (here and, through the outbox, at the homeserver)',
  tag: 'devices',
  params: z.object({ user: userParam.shape.user, device: z.string().min(1).max(255) }).strict(),
  body: z.object({ name: z.string().min(1).max(256) }).strict(),
  response: z.object({ user_id: z.string(), device_id: z.string(), name: z.string() }),
});

export const issuePersonalToken = adminRoute({
  method: 'post',
  path: 'users/:user/personal-tokens',
  operationId: 'issuePersonalToken',
  summary: 'Issue a personal access token for a user (shown once)',
  description:
    'The token works at the homeserver like any access token. The scope defaults to the Matrix API; a device is generated unless the scope names one. ' +
    'urn:synapse:admin:* and urn:causeway:admin only for users with the admin right (403 otherwise).',
  tag: 'personal-tokens',
  params: userParam,
  body: z
    .object({
      name: z.string().min(1).max(256),
      scope: z.array(z.string().min(1).max(300)).max(10).optional(),
      expires_in: z
        .number()
        .int()
        .min(60)
        .max(10 * 365 * 86400)
        .nullable()
        .optional()
        .meta({ description: 'Seconds; null or absent: never expires.' }),
    })
    .strict(),
  response: z.object({
    id: z.string(),
    user_id: z.string(),
    name: z.string(),
    access_token: z.string(),
    scope: z.array(z.string()),
    device_id: z.string().nullable(),
    expires_at: timestamp.nullable(),
    device_ready: z.boolean().meta({ description: 'The homeserver confirmed the device; false: the outbox will deliver it.' }),
  }),
  status: 201,
});

/** /api/admin/v1/users… */
@AdminController()
export class UsersController {
  constructor(private readonly admin: AdminService) {}

  @AdminRoute(listUsers)
  list(@Valid(listUsers) { query: q }: Input<typeof listUsers>) {
    return this.admin.listUsers({ localpartPrefix: q.localpart, email: q.email, provider: q.provider, subject: q.subject, status: q.status, admin: q.admin }, { after: q.after, limit: q.limit });
  }

  @AdminRoute(createUser)
  create(@Valid(createUser) { body: b }: Input<typeof createUser>, @Principal() p: AdminPrincipal) {
    return this.admin.createUser(
      {
        localpart: b.localpart,
        displayName: b.display_name ?? null,
        emails: b.emails,
        links: b.links?.map((l) => ({ providerId: l.provider, subject: l.subject })),
        admin: b.admin,
        skipHomeserverCheck: b.skip_homeserver_check,
      },
      p.actor,
    );
  }

  @AdminRoute(getUser)
  get(@Valid(getUser) { params }: Input<typeof getUser>) {
    return this.admin.showUser(params.user);
  }

  @AdminRoute(lockUser)
  lock(@Valid(lockUser) { params }: Input<typeof lockUser>, @Principal() p: AdminPrincipal) {
    return this.admin.lock(params.user, p.actor);
  }

  @AdminRoute(unlockUser)
  unlock(@Valid(unlockUser) { params }: Input<typeof unlockUser>, @Principal() p: AdminPrincipal) {
    return this.admin.unlock(params.user, p.actor);
  }

  @AdminRoute(deactivateUser)
  deactivate(@Valid(deactivateUser) { params, body }: Input<typeof deactivateUser>, @Principal() p: AdminPrincipal) {
    return this.admin.deactivate(params.user, body.erase, p.actor);
  }

  @AdminRoute(reactivateUser)
  reactivate(@Valid(reactivateUser) { params }: Input<typeof reactivateUser>, @Principal() p: AdminPrincipal) {
    return this.admin.reactivate(params.user, p.actor);
  }

  @AdminRoute(setAdmin)
  setAdmin(@Valid(setAdmin) { params, body }: Input<typeof setAdmin>, @Principal() p: AdminPrincipal) {
    return this.admin.setAdmin(params.user, body.admin, p.actor);
  }

  @AdminRoute(setDisplayName)
  setDisplayName(@Valid(setDisplayName) { params, body }: Input<typeof setDisplayName>, @Principal() p: AdminPrincipal) {
    return this.admin.setDisplayName(params.user, body.display_name, p.actor);
  }

  @AdminRoute(userEmails)
  emails(@Valid(userEmails) { params }: Input<typeof userEmails>) {
    return this.admin.emails(params.user);
  }

  @AdminRoute(userSessions)
  sessions(@Valid(userSessions) { params, query: q }: Input<typeof userSessions>) {
    return this.admin.listSessions({ user: params.user, kinds: q.kind ? [q.kind] : undefined, state: q.state, clientId: q.client, deviceId: q.device, ip: q.ip }, { after: q.after, limit: q.limit });
  }

  @AdminRoute(endUserSessions)
  async endSessions(@Valid(endUserSessions) { params }: Input<typeof endUserSessions>, @Principal() p: AdminPrincipal) {
    return { ended: await this.admin.endAllSessions(params.user, p.actor) };
  }

  @AdminRoute(userLinks)
  links(@Valid(userLinks) { params }: Input<typeof userLinks>) {
    return this.admin.userLinks(params.user);
  }

  @AdminRoute(addLink)
  addLink(@Valid(addLink) { params, body }: Input<typeof addLink>, @Principal() p: AdminPrincipal) {
    return this.admin.addLink(params.user, body.provider, body.subject, p.actor);
  }

  @AdminRoute(renameDevice)
  renameDevice(@Valid(renameDevice) { params, body }: Input<typeof renameDevice>, @Principal() p: AdminPrincipal) {
    return this.admin.renameDevice(params.user, params.device, body.name, p.actor);
  }

  @AdminRoute(issuePersonalToken)
  issueToken(@Valid(issuePersonalToken) { params, body }: Input<typeof issuePersonalToken>, @Principal() p: AdminPrincipal) {
    return this.admin.issuePersonalToken(params.user, { name: body.name, scope: body.scope, expiresInSeconds: body.expires_in ?? null }, p.actor);
  }
}
