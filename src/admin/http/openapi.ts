import { z } from 'zod';
import type { AdminRouteDef } from './admin-route.js';
import { errorBody } from './schemas.js';

type Json = Record<string, unknown>;

export const ADMIN_BASE = '/api/admin/v1';

/** `users/:user/lock` → `/users/{user}/lock` */
export const openApiPath = (nestPath: string) => `/${nestPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`;

/**
 * Turns a zod schema into an OpenAPI 3.1 schema (JSON Schema 2020-12): schemas with an `id`
 * (`.meta({ id })`) go to components and are referenced.
 */
class SchemaConverter {
  readonly components: Record<string, Json> = {};

  convert(schema: z.ZodType, io: 'input' | 'output'): Json {
    const json = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as Json;
    const defs = (json.$defs ?? {}) as Record<string, Json>;
    delete json.$schema;
    delete json.$defs;
    for (const [id, def] of Object.entries(defs)) this.addComponent(id, def);
    // A schema with an id at its root comes back as a bare reference.
    return JSON.parse(JSON.stringify(json).replaceAll('"#/$defs/', '"#/components/schemas/')) as Json;
  }

  private addComponent(id: string, def: Json) {
    const text = JSON.stringify(def).replaceAll('"#/$defs/', '"#/components/schemas/');
    const existing = this.components[id];
    if (existing && JSON.stringify(existing) !== text) throw new Error(`OpenAPI: two different schemas named ${id}`);
    this.components[id] = JSON.parse(text) as Json;
  }
}

function objectShape(schema: z.ZodType | undefined): Record<string, z.ZodType> {
  if (!schema) return {};
  const def = (schema as unknown as { shape?: Record<string, z.ZodType> }).shape;
  if (!def) throw new Error('OpenAPI: path and query schemas must be z.object()');
  return def;
}

function parameters(route: AdminRouteDef, conv: SchemaConverter): Json[] {
  const out: Json[] = [];
  for (const [where, schema] of [
    ['path', route.params],
    ['query', route.query],
  ] as const) {
    for (const [name, field] of Object.entries(objectShape(schema))) {
      const s = conv.convert(field, 'input');
      const { description, ...rest } = s as { description?: string };
      out.push({ name, in: where, required: where === 'path' || !field.safeParse(undefined).success, ...(description ? { description } : {}), schema: rest });
    }
  }
  return out;
}

const ERRORS: Record<string, string> = {
  '400': 'Invalid path, query or body (M_INVALID_PARAM, M_BAD_JSON, M_NOT_JSON)',
  '401': 'No credential (M_MISSING_TOKEN) or an unknown one (M_UNKNOWN_TOKEN)',
  '403': 'A live access token without the scope urn:causeway:admin (M_FORBIDDEN), or an action the target may not have',
  '404': 'No such resource (M_NOT_FOUND)',
  '409': 'The change conflicts with the current state (CAUSEWAY_CONFLICT, CAUSEWAY_LAST_SIGN_IN_METHOD, CAUSEWAY_WRONG_STATE)',
};

/** The OpenAPI 3.1 document of the admin API, from the declared routes. */
export function buildOpenApi(routes: readonly AdminRouteDef[], opts: { publicBase: string; version: string }): Json {
  const conv = new SchemaConverter();
  conv.convert(errorBody, 'output');
  const paths: Record<string, Record<string, Json>> = {};
  for (const r of routes) {
    const path = openApiPath(r.path);
    const errorRef = { $ref: '#/components/schemas/Error' };
    const responses: Record<string, Json> = {
      [String(r.status ?? 200)]: { description: 'Success', content: { 'application/json': { schema: conv.convert(r.response, 'output') } } },
    };
    for (const [code, description] of Object.entries(ERRORS)) {
      if (r.public && (code === '401' || code === '403')) continue;
      responses[code] = { description, content: { 'application/json': { schema: errorRef } } };
    }
    (paths[path] ??= {})[r.method] = {
      operationId: r.operationId,
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
      tags: [r.tag],
      parameters: parameters(r, conv),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: conv.convert(r.body, 'input') } } } } : {}),
      responses,
      ...(r.public ? { security: [] } : {}),
    };
  }
  const tokenUrl = new URL('oauth2/token', opts.publicBase).href;
  return {
    openapi: '3.1.0',
    info: {
      title: 'Causeway admin API',
      version: opts.version,
      description:
        'Users, sessions, devices, upstream links, OAuth clients, personal access tokens, the audit log and the event bus. ' +
        'Lists are cursor-paginated (`after`, `limit`; `next_after` in the answer). Every error is `{"errcode", "error"}`. ' +
        'Every change is written to the audit log with the caller as actor.',
    },
    servers: [{ url: new URL(ADMIN_BASE.slice(1), opts.publicBase).href }],
    security: [{ adminToken: [] }, { oauth2: ['urn:causeway:admin'] }],
    paths,
    components: {
      schemas: conv.components,
      securitySchemes: {
        adminToken: { type: 'http', scheme: 'bearer', description: 'The static admin token (`admin.token` in the configuration).' },
        oauth2: {
          type: 'oauth2',
          description: 'An access token carrying urn:causeway:admin: client_credentials of a static client allowed the scope, or an interactive sign-in of a user with the admin right.',
          flows: {
            clientCredentials: { tokenUrl, scopes: { 'urn:causeway:admin': 'Use the admin API' } },
            authorizationCode: { authorizationUrl: new URL('authorize', opts.publicBase).href, tokenUrl, scopes: { 'urn:causeway:admin': 'Use the admin API' } },
          },
        },
      },
    },
  };
}
