import { applyDecorators, createParamDecorator, Delete, Get, HttpCode, Patch, Post, Put, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AdminError } from './admin-error.js';
import type { AdminPrincipal } from './admin-principal.js';

/**
 * One admin API operation, declared once: the Nest route is made from it (`@AdminRoute`), requests
 * are validated with its zod schemas (`@Valid`), and the OpenAPI document is generated from the
 * same schemas (openapi.ts). A route that is not declared this way cannot be in the document, so
 * every admin controller method uses it (test/integration/admin/openapi.spec.ts checks that).
 */
export interface AdminRouteDef<P extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Below /api/admin/v1, Nest style (`users/:user`). */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  params?: P;
  query?: Q;
  body?: B;
  /** The success body. */
  response: R;
  /** Success status (200 by default). */
  status?: number;
  /** Answered without credentials (the OpenAPI document itself). */
  public?: boolean;
}

/** Every declared route, in declaration order (the OpenAPI document's source). */
export const ADMIN_ROUTES: AdminRouteDef[] = [];

export function adminRoute<P extends z.ZodType = z.ZodNever, Q extends z.ZodType = z.ZodNever, B extends z.ZodType = z.ZodNever, R extends z.ZodType = z.ZodType>(
  def: AdminRouteDef<P, Q, B, R>,
): AdminRouteDef<P, Q, B, R> {
  if (ADMIN_ROUTES.some((r) => r.operationId === def.operationId)) throw new Error(`admin route ${def.operationId} declared twice`);
  ADMIN_ROUTES.push(def as unknown as AdminRouteDef);
  return def;
}

export const ROUTE_DEF = 'causeway:admin-route';
const METHOD = { get: Get, post: Post, put: Put, patch: Patch, delete: Delete } as const;

/** The Nest route of a declared operation. */
export function AdminRoute(def: AdminRouteDef): MethodDecorator {
  return applyDecorators(METHOD[def.method](def.path), HttpCode(def.status ?? 200), SetMetadata(ROUTE_DEF, def));
}

export type Input<D> =
  D extends AdminRouteDef<infer P, infer Q, infer B>
    ? { params: P extends z.ZodNever ? Record<string, never> : z.output<P>; query: Q extends z.ZodNever ? Record<string, never> : z.output<Q>; body: B extends z.ZodNever ? undefined : z.output<B> }
    : never;

function issues(where: string, e: z.ZodError): string {
  return e.issues.map((i) => `${[where, ...i.path].join('.')}: ${i.message}`).join('; ');
}

function check<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string, allowEmpty: boolean): T | undefined {
  if (!schema) {
    if (!allowEmpty && value !== undefined && !(typeof value === 'object' && value !== null && Object.keys(value).length === 0)) {
      throw new AdminError(400, 'M_INVALID_PARAM', `${where}: nothing expected here`);
    }
    return undefined;
  }
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw new AdminError(400, where === 'body' ? 'M_BAD_JSON' : 'M_INVALID_PARAM', issues(where, r.error));
  return r.data;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * A body must be JSON, as the OpenAPI document says: Fastify also parses forms and plain text, and
 * a form that happened to fit a schema was taken (the hostile-input corpus found a form-encoded
 * `POST /users` creating a user). Bearer authentication keeps it from being a CSRF, but the edge
 * accepts one encoding only.
 */
export function requireJsonBody(req: { headers: Record<string, string | string[] | undefined>; body?: unknown }): void {
  if (req.body === undefined || req.body === null) return;
  const type = req.headers['content-type'];
  if (typeof type !== 'string' || !JSON_TYPE.test(type)) throw new AdminError(400, 'M_NOT_JSON', 'the body must be application/json');
}

/** The request's path parameters, query and body, validated with the route's schemas (400 otherwise). */
export const Valid = createParamDecorator((def: AdminRouteDef, ctx: ExecutionContext) => {
  const req = ctx.switchToHttp().getRequest<FastifyRequest>();
  requireJsonBody(req);
  return {
    params: check(def.params, req.params, 'path', true) ?? {},
    query: check(def.query, req.query, 'query', false) ?? {},
    body: check(def.body, req.body, 'body', false),
  };
});

/** Who is calling (set by AdminAuthGuard). */
export const Principal = createParamDecorator((_: unknown, ctx: ExecutionContext): AdminPrincipal => {
  return ctx.switchToHttp().getRequest<FastifyRequest & { adminPrincipal: AdminPrincipal }>().adminPrincipal;
});
