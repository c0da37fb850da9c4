import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { OAuthSeeder } from './oauth-seeder.js';
import { bearer, postForm, registerClient } from './oauth-http.js';

const REDIRECT = 'http://localhost:3000/cb';

/**
 * The introspection cache across replicas: two Causeway processes on one PostgreSQL and one Redis,
 * each with a long cache. A token revoked or refreshed at one replica must stop introspecting as
 * active at the other at once (Redis pub/sub), not when the cache entry expires.
 */
describe('introspection cache invalidation across replicas (PostgreSQL + Redis)', () => {
  let a: CausewayProcess;
  let b: CausewayProcess;
  let seed: OAuthSeeder;
  let client: string;

  beforeAll(async () => {
    const config = { replicas: 2, redis: { url: 'redis://127.0.0.1:6379', key_prefix: `test:introspect:${randomBytes(4).toString('hex')}:` }, tokens: { introspection_cache_ttl: 300 } };
    a = await startCauseway({ db: 'postgres', config });
    b = await startCauseway({ database: a.database, config });
    seed = await OAuthSeeder.open(a);
    client = await registerClient(a.url, { client_name: 'r', client_uri: 'http://localhost:3000', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] });
  });
  afterAll(async () => {
    await seed?.close();
    await b?.stop();
    await a?.dispose();
  });

  async function session() {
    const user = await seed.user();
    const c = await seed.authorize({ client_id: client, redirect_uri: REDIRECT, scope: 'openid' }, user);
    const t = await postForm(`${a.url}/oauth2/token`, { grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, client_id: client, code_verifier: c.verifier });
    return { access: t.json.access_token as string, refresh: t.json.refresh_token as string };
  }
  const activeAt = async (cw: CausewayProcess, token: string) => (await postForm(`${cw.url}/oauth2/introspect`, { token }, bearer(SHARED_SECRET))).json.active;
  /** Pub/sub is asynchronous: poll briefly (bounded) instead of asserting on a single instant. */
  async function becomesInactive(cw: CausewayProcess, token: string): Promise<boolean> {
    for (let i = 0; i < 20; i++) {
      if ((await activeAt(cw, token)) === false) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  }

  it('a revocation at one replica is seen at once by the other', async () => {
    const s = await session();
    expect(await activeAt(b, s.access)).toBe(true); // cached at b
    expect(await activeAt(a, s.access)).toBe(true); // cached at a
    await postForm(`${a.url}/oauth2/revoke`, { token: s.refresh, client_id: client });
    expect(await activeAt(a, s.access)).toBe(false);
    expect(await becomesInactive(b, s.access)).toBe(true);
  });

  it('a refresh at one replica retires the old access token at the other', async () => {
    const s = await session();
    expect(await activeAt(b, s.access)).toBe(true);
    const r = await postForm(`${a.url}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: s.refresh, client_id: client });
    expect(r.status).toBe(200);
    expect(await becomesInactive(b, s.access)).toBe(true);
    expect(await activeAt(b, r.json.access_token as string)).toBe(true);
  });
});
