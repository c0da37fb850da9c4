import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { In } from 'typeorm';
import { OAuth2TokenRepository } from '../../../src/storage/repositories/oauth2-token.repository.js';
import { DeviceSessionRepository } from '../../../src/storage/repositories/device-session.repository.js';
import { BrowserSessionRepository } from '../../../src/storage/repositories/browser-session.repository.js';
import { AuditLogRepository } from '../../../src/storage/repositories/audit-log.repository.js';
import { SessionEndRepository } from '../../../src/storage/repositories/session-end/session-end.repository.js';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { TEST_DBS } from '../../support/databases.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { DbOutbox } from '../../../src/events/outbox.js';
import { AuditLogEntity, BrowserSessionEntity, UpstreamSessionEntity } from '../../../src/storage/entities/index.js';
import { ulid } from '../../../src/storage/ulid.js';
import { IntrospectionCache } from '../../../src/oauth2/introspect/introspection-cache.js';
import { SessionEnder } from '../../../src/oauth2/sessions/session-ender.js';
import { SessionTerminatorService } from '../../../src/oauth2/sessions/session-terminator.service.js';
import { OAuthSeeder } from './oauth-seeder.js';
import { bearer, postForm, registerClient } from './oauth-http.js';

const REDIRECT = 'http://localhost:3000/cb';
const S = 'urn:matrix:client:';

/**
 * SessionTerminator (what logout receivers, the account page and the admin API call), run against
 * the server's database: tokens die at once on the wire, and the server's event bus removes the
 * devices from the homeserver. The server runs without the introspection cache, since this test
 * process cannot clear the server's memory (in production the terminator runs inside the server).
 */
describe.each(TEST_DBS)('SessionTerminator on %s', (db) => {
  let hs: HomeserverStandin;
  let cw: CausewayProcess;
  let seed: OAuthSeeder;
  let terminator: SessionTerminatorService;
  let client: string;

  beforeAll(async () => {
    hs = await startHomeserverStandin({ secret: SHARED_SECRET, cache: false });
    cw = await startCauseway({ db, config: { matrix: { endpoint: hs.url }, tokens: { introspection_cache_ttl: 0 } } });
    hs.setEndpoint(cw.issuer);
    seed = await OAuthSeeder.open(cw);
    terminator = new SessionTerminatorService(
      seed.db,
      new SessionEnder(seed.db, new SessionEndRepository(seed.db), new DbOutbox(), new IntrospectionCache(seed.config, null)),
      new AuditLogRepository(seed.db),
      new OAuth2TokenRepository(seed.db),
      new DeviceSessionRepository(seed.db),
      new BrowserSessionRepository(seed.db),
    );
    client = await registerClient(cw.url, { client_name: 't', client_uri: 'http://localhost:3000', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] });
  });
  afterAll(async () => {
    await seed?.close();
    await cw?.dispose();
    await hs?.stop();
  });

  async function login(user: Awaited<ReturnType<OAuthSeeder['user']>>, device: string, browser = user.session) {
    const c = await seed.authorize({ client_id: client, redirect_uri: REDIRECT, scope: `${S}api:* ${S}device:${device}` }, { ...user, session: browser });
    const t = await postForm(`${cw.url}/oauth2/token`, { grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, client_id: client, code_verifier: c.verifier });
    expect(t.status).toBe(200);
    return t.json.access_token as string;
  }
  const active = async (token: string) => (await postForm(`${cw.url}/oauth2/introspect`, { token }, bearer(SHARED_SECRET))).json.active;
  const synced = (localpart: string) => hs.waitForCall((c) => c.path === '/_synapse/mas/sync_devices' && (c.body as { localpart?: string }).localpart === localpart, 15_000);

  it('endBrowserSession ends every OAuth session born from it, and only those', async () => {
    const user = await seed.user();
    const other = await seed.browserSession(user.userId);
    const t1 = await login(user, 'BROWSER1A');
    const t2 = await login(user, 'BROWSER1B');
    const t3 = await login(user, 'OTHERBROW', other);
    await terminator.endBrowserSession(user.session.id, 'user_logout');
    expect([await active(t1), await active(t2), await active(t3)]).toEqual([false, false, true]);
    expect((await seed.db.manager.findOneBy(BrowserSessionEntity, { id: user.session.id }))!.finished_at).not.toBeNull();
    await synced(user.localpart);
    expect(hs.devices(user.localpart)).toEqual(['OTHERBROW']);
    const audit = await seed.db.manager.findBy(AuditLogEntity, { action: 'oauth2_session.end' });
    expect(audit.filter((a) => (a.details as { user_id?: string }).user_id === user.userId && (a.details as { reason?: string }).reason === 'user_logout')).toHaveLength(2);
  });

  it('endAllSessionsOfUser ends everything of that user and counts it', async () => {
    const user = await seed.user();
    const bystander = await seed.user();
    const t1 = await login(user, 'ALL1');
    const t2 = await login(user, 'ALL2');
    const tb = await login(bystander, 'BYSTANDER');
    expect(await terminator.endAllSessionsOfUser(user.userId, 'admin')).toBe(2);
    expect([await active(t1), await active(t2), await active(tb)]).toEqual([false, false, true]);
    await synced(user.localpart);
    expect(hs.devices(user.localpart)).toEqual([]);
    expect(await terminator.endAllSessionsOfUser(user.userId, 'admin')).toBe(0);
  });

  it('endUpstreamSessions ends the sessions born from a matching upstream session (by sid, or by subject)', async () => {
    const user = await seed.user();
    const upstreamId = ulid();
    await seed.db.transaction(async (em) => {
      await em.insert(UpstreamSessionEntity, {
        id: upstreamId,
        provider_id: 'corp',
        subject: 'alice@corp',
        user_id: user.userId,
        upstream_sid: 'sid-1',
        details: null,
        browser_session_id: user.session.id,
        created_at: Date.now(),
        ended_at: null,
      });
    });
    const t = await login(user, 'UPSTREAM1');
    expect(await terminator.endUpstreamSessions('corp', { upstreamSid: 'nope' })).toBe(0);
    expect(await active(t)).toBe(true);
    expect(await terminator.endUpstreamSessions('corp', { upstreamSid: 'sid-1' })).toBe(2);
    expect(await active(t)).toBe(false);
    expect((await seed.db.manager.findBy(UpstreamSessionEntity, { id: In([upstreamId]) }))[0]!.ended_at).not.toBeNull();

    const user2 = await seed.user();
    await seed.db.transaction((em) =>
      em.insert(UpstreamSessionEntity, {
        id: ulid(),
        provider_id: 'corp',
        subject: 'bob@corp',
        user_id: user2.userId,
        upstream_sid: null,
        details: null,
        browser_session_id: user2.session.id,
        created_at: Date.now(),
        ended_at: null,
      }),
    );
    const t2 = await login(user2, 'UPSTREAM2');
    expect(await terminator.endUpstreamSessions('corp', { subject: 'bob@corp' })).toBe(2);
    expect(await active(t2)).toBe(false);
  });
});
