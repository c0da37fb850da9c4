import { Inject } from '@nestjs/common';
import { AdminController } from '../http/admin-controller.js';
import { z } from 'zod';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import { AdminService } from '../admin.service.js';
import { notFound } from '../http/admin-error.js';
import type { AdminPrincipal } from '../http/admin-principal.js';
import { ADMIN_ROUTES, adminRoute, AdminRoute, Principal, Valid, type Input } from '../http/admin-route.js';
import { buildOpenApi } from '../http/openapi.js';
import { page, pageQuery, timestamp } from '../http/schemas.js';

export const queryAudit = adminRoute({
  method: 'get',
  path: 'audit',
  operationId: 'queryAuditLog',
  summary: 'Query the audit log',
  description: 'Filters combine (AND). Oldest first by default; `order=desc` for newest first (the cursor follows the order).',
  tag: 'audit',
  query: z
    .object({
      ...pageQuery,
      user: z.string().min(1).max(255).optional().meta({ description: 'The user concerned (id or localpart).' }),
      actor: z.string().min(1).max(128).optional().meta({ description: 'e.g. `admin-token`, `user:<id>`, `client:<client_id>`, `cli:<os user>`, `upstream:<provider>`.' }),
      action: z.string().min(1).max(64).optional().meta({ description: 'e.g. `user.lock`.' }),
      since: z.coerce.number().int().min(0).optional().meta({ description: 'From this time (ms, inclusive).' }),
      until: z.coerce.number().int().min(0).optional().meta({ description: 'Before this time (ms, exclusive).' }),
      order: z.enum(['asc', 'desc']).default('asc'),
    })
    .strict(),
  response: page(
    z
      .object({
        id: z.string(),
        actor: z.string(),
        action: z.string(),
        target: z.string().nullable(),
        user_id: z.string().nullable(),
        details: z.record(z.string(), z.unknown()).nullable(),
        created_at: timestamp,
      })
      .meta({ id: 'AuditEntry' }),
  ),
});

const shard = z.object({ shard: z.string(), depth: z.number() }).loose();
export const busStatus = adminRoute({
  method: 'get',
  path: 'events/status',
  operationId: 'getEventBusStatus',
  summary: 'Event bus: undelivered events, age of the oldest, dead letters, homeserver breaker, per-shard depth',
  tag: 'events',
  response: z.object({
    driver: z.string(),
    undelivered: z.number().int(),
    oldest_undelivered_age_seconds: z.number(),
    dead_letters: z.number().int(),
    homeserver_down: z.boolean(),
    shards: z.array(shard),
  }),
});

export const deadLetters = adminRoute({
  method: 'get',
  path: 'events/dead-letters',
  operationId: 'listDeadLetters',
  summary: 'List dead letters (events whose delivery gave up)',
  tag: 'events',
  query: z.object({ ...pageQuery, after: z.coerce.number().int().min(0).optional().meta({ description: 'The `next_after` of the previous page.' }) }).strict(),
  response: page(
    z.object({
      id: z.number().int(),
      user: z.string(),
      kind: z.string(),
      payload: z.record(z.string(), z.unknown()),
      created_at: timestamp,
      dead_at: timestamp.nullable(),
      attempts: z.number().int(),
      last_error: z.string().nullable(),
    }),
  ),
});

const replayed = z.object({ replayed: z.array(z.number().int()) });
export const replayOne = adminRoute({
  method: 'post',
  path: 'events/dead-letters/:id/replay',
  operationId: 'replayDeadLetter',
  summary: 'Put one dead letter back in the queue',
  tag: 'events',
  params: z.object({ id: z.coerce.number().int().min(1) }).strict(),
  response: replayed,
});

export const replayAll = adminRoute({
  method: 'post',
  path: 'events/dead-letters/replay',
  operationId: 'replayDeadLetters',
  summary: 'Put every dead letter back in the queue (up to 1000 per call)',
  tag: 'events',
  response: replayed,
});

export const providers = adminRoute({
  method: 'get',
  path: 'providers',
  operationId: 'listProviders',
  summary: 'Upstream providers and their health (OIDC discovery, SAML metadata)',
  tag: 'providers',
  response: z.object({
    data: z.array(
      z.object({
        id: z.string(),
        kind: z.string(),
        name: z.string(),
        status: z.enum(['up', 'degraded', 'down']),
        checks: z.record(z.string(), z.object({ status: z.string(), detail: z.string().optional() })),
      }),
    ),
  }),
});

export const openApiDocument = adminRoute({
  method: 'get',
  path: 'openapi.json',
  operationId: 'getOpenApiDocument',
  summary: 'This document (OpenAPI 3.1); no credential needed',
  tag: 'meta',
  response: z.record(z.string(), z.unknown()),
  public: true,
});

@AdminController()
export class OperationsController {
  private document?: Record<string, unknown>;

  constructor(
    private readonly admin: AdminService,
    @Inject(CONFIG) private readonly config: GatewayConfig,
  ) {}

  @AdminRoute(queryAudit)
  audit(@Valid(queryAudit) { query: q }: Input<typeof queryAudit>) {
    return this.admin.queryAudit({ user: q.user, actor: q.actor, action: q.action, since: q.since, until: q.until }, { after: q.after, limit: q.limit }, q.order);
  }

  @AdminRoute(busStatus)
  status() {
    return this.admin.busStatus();
  }

  @AdminRoute(deadLetters)
  deadLetters(@Valid(deadLetters) { query: q }: Input<typeof deadLetters>) {
    return this.admin.deadLetters(q.limit, q.after);
  }

  @AdminRoute(replayOne)
  async replayOne(@Valid(replayOne) { params }: Input<typeof replayOne>, @Principal() p: AdminPrincipal) {
    const done = await this.admin.replay([params.id], p.actor);
    if (!done.length) throw notFound('dead letter');
    return { replayed: done };
  }

  @AdminRoute(replayAll)
  async replayAll(@Principal() p: AdminPrincipal) {
    return { replayed: await this.admin.replay(undefined, p.actor) };
  }

  @AdminRoute(providers)
  providers() {
    return this.admin.providers();
  }

  @AdminRoute(openApiDocument)
  openapi() {
    this.document ??= buildOpenApi(ADMIN_ROUTES, { publicBase: this.config.http.public_base, version: '1' });
    return this.document;
  }
}
