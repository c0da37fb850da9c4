import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import SwaggerParser from '@apidevtools/swagger-parser';
import { startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { ADMIN } from './admin-http.js';
import { ADMIN_CONTROLLERS } from '../../../src/admin/admin.module.js';
import { ROUTE_DEF } from '../../../src/admin/http/admin-route.js';
import { openApiPath } from '../../../src/admin/http/openapi.js';

/**
 * The OpenAPI 3.1 document served at /api/admin/v1/openapi.json: it validates (swagger-parser,
 * against the OpenAPI 3.1 schema and its rules), and every route the admin controllers register
 * is in it with the same method and path (read from Nest's route metadata, so a route added without
 * going through adminRoute() fails here).
 */
describe('admin API OpenAPI document', () => {
  let cw: CausewayProcess;
  let doc: { openapi: string; paths: Record<string, Record<string, { operationId: string }>> };

  beforeAll(async () => {
    cw = await startCauseway({ config: { admin: { token: ADMIN } } });
    const res = await fetch(`${cw.url}/api/admin/v1/openapi.json`);
    expect(res.status).toBe(200);
    doc = (await res.json()) as typeof doc;
  });
  afterAll(() => cw?.dispose());

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
  });

  it('holds every route the admin controllers register, and nothing else', () => {
    const registered: string[] = [];
    for (const controller of ADMIN_CONTROLLERS) {
      const base = Reflect.getMetadata('path', controller) as string;
      expect(base).toBe('api/admin/v1');
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = (controller.prototype as unknown as Record<string, unknown>)[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const path = Reflect.getMetadata('path', handler) as string | undefined;
        if (path === undefined) continue;
        const method = ['get', 'post', 'put', 'delete', 'patch', 'all', 'options', 'head'][Reflect.getMetadata('method', handler) as number];
        // Every Nest route of these controllers must have been declared through adminRoute().
        expect([name, Reflect.getMetadata(ROUTE_DEF, handler) !== undefined]).toEqual([name, true]);
        registered.push(`${method} ${openApiPath(path)}`);
      }
    }
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    expect(registered.sort()).toEqual(documented.sort());
    expect(registered.length).toBeGreaterThanOrEqual(30);
  });
});
