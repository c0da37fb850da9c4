import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { CompatRoutes } from './compat/compat.routes.js';
import { IntrospectionEndpoint } from './oauth2/introspect/introspection.endpoint.js';

/**
 * The routes that are not Nest controllers, all declared here. Every other route is a Nest
 * controller method (`@Get`, `@Post`, … under `src/<module>/`).
 *
 * - `POST /oauth2/introspect`: Synapse's call for every client request, answered by a plain Node
 *   request handler placed in front of Fastify (the hot path: the framework's per-request work
 *   cost several times the lookup; oauth2/introspect/introspection.endpoint.ts).
 * - `GET|POST /_matrix/client/{version}/login`, `GET /_matrix/client/{version}/login/sso/redirect[/{idp}]`,
 *   `POST /_matrix/client/{version}/logout`, `…/logout/all`, `…/refresh`: the compatibility layer,
 *   in a Fastify scope of its own whose bodies follow MAS's rules rather than Fastify's (a missing
 *   or wrong Content-Type, bad JSON and an oversized body are Matrix errors; compat/compat.routes.ts).
 */
export function installRawRoutes(app: NestFastifyApplication): void {
  app.get(IntrospectionEndpoint).install();
  app.get(CompatRoutes).install();
}
