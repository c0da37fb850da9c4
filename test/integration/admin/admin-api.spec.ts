import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Browser, textOf } from '../../support/browser.js';
import { startCauseway, SHARED_SECRET, type CausewayProcess } from '../../support/causeway.js';
import { CausewayDb, waitUntil } from '../../support/causeway-db.js';
import { TEST_DBS } from '../../support/databases.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { authorizeUrl, devSignIn, pkce, signInAndConsent, toClient, webClient } from '../login/login-flow.js';
import { basic, postForm, registerClient } from '../oauth2/oauth-http.js';
import { AuditLogEntity } from '../../../src/storage/entities/index.js';
import { ADMIN, adminCall, whoamiAt, type Json } from './admin-http.js';

/**
 * The admin API (/api/admin/v1) against a running Causeway and the homeserver stand-in, on each
 * database: who may call it (admin token, OAuth tokens with and without urn:causeway:admin), users
 * from pre-provisioning to reactivation, links, sessions, clients, personal access tokens at the
 * homeserver, the audit row (and actor) of each change, and the order in which the homeserver
 * learns a user's changes. The OpenAPI document and pagination have their own files.
 */
const OPS = { id: 'ops-bot', secret: 'ops-bot-secret-0123456789abcdef' };
const PLAIN = { id: 'ops-plain', secret: 'ops-plain-secret-0123456789abcdef' };

describe.each(TEST_DBS)('admin API on %s', (kind) => {
  let hs: HomeserverStandin;
  let cw: CausewayProcess;
  let db: CausewayDb;
  let clientId: string;
  let opsToken: string;
  let plainToken: string;

  const admin = (method: string, path: string, body?: unknown, token: string | null = ADMIN) => adminCall(cw.url, method, path, body, token);
  const whoami = (token: string) => whoamiAt(hs.url, token);
  const audit = async (q: string) => ((await admin('GET', `/audit?${q}`)).json.data as Json[]) ?? [];
  const clientCredentials = async (c: { id: string; secret: string }) => {
    const r = await postForm(`${cw.url}/oauth2/token`, { grant_type: 'client_credentials' }, basic(c.id, c.secret));
    expect(r.status).toBe(200);
    return (r.json as { access_token: string }).access_token;
  };

  beforeAll(async () => {
    hs = await startHomeserverStandin({ secret: SHARED_SECRET });
    cw = await startCauseway({
      db: kind,
      config: {
        matrix: { endpoint: `${hs.url}/` },
        admin: { token: ADMIN },
        // The test's client registers dynamically: let it ask for urn:synapse:admin:* (refused to dynamic clients by default).
        policy: { admin_localparts: ['root-like'], dynamic_client_denied_scopes: [] },
        clients: [
          { client_id: OPS.id, client_secret: OPS.secret, grant_types: ['client_credentials'], client_credentials_scopes: ['urn:causeway:admin'] },
          { client_id: PLAIN.id, client_secret: PLAIN.secret, grant_types: ['client_credentials'], client_credentials_scopes: ['openid'] },
        ],
        upstream: {
          providers: [
            { id: 'dev', kind: 'dev', name: 'Development sign-in' },
            { id: 'other', kind: 'dev', name: 'Another directory' },
          ],
        },
      },
    });
    hs.setEndpoint(cw.issuer);
    db = await CausewayDb.open(cw.database);
    clientId = await registerClient(cw.url, webClient('Admin test client'));
    opsToken = await clientCredentials(OPS);
    plainToken = await clientCredentials(PLAIN);
  });
  afterAll(async () => {
    await db?.close();
    await cw?.dispose();
    await hs?.stop();
  });

  describe('who may call it', () => {
    it('every route of the OpenAPI document: 401 without or with a wrong credential, 403 without urn:causeway:admin, admitted with the admin token or a token carrying it', async () => {
      const doc = (await (await fetch(`${cw.url}/api/admin/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { security?: unknown[] }>> };
      const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, public: Array.isArray(op.security) && op.security.length === 0 })),
      );
      expect(operations.length).toBeGreaterThan(30);
      for (const op of operations) {
        // Path parameters get values that name nothing: the answer may be a 404, never a 401/403 once admitted.
        const path = op.path.replace('{id}', op.path.startsWith('/events') ? '999999' : 'NOSUCHID').replace(/\{[a-z]+\}/g, 'nobody');
        if (op.public) {
          expect((await admin(op.method, path, undefined, null)).status).toBe(200);
          continue;
        }
        const none = await admin(op.method, path, undefined, null);
        expect([op.method, op.path, none.status, none.json.errcode]).toEqual([op.method, op.path, 401, 'M_MISSING_TOKEN']);
        expect(none.headers.get('www-authenticate')).toMatch(/^Bearer realm="causeway-admin"/);
        const wrong = await admin(op.method, path, undefined, `${ADMIN}x`);
        expect([op.path, wrong.status, wrong.json.errcode]).toEqual([op.path, 401, 'M_UNKNOWN_TOKEN']);
        const unscoped = await admin(op.method, path, undefined, plainToken);
        expect([op.path, unscoped.status, unscoped.json.errcode]).toEqual([op.path, 403, 'M_FORBIDDEN']);
        for (const token of [ADMIN, opsToken]) {
          const ok = await admin(op.method, path, undefined, token);
          expect([op.method, op.path, ok.status === 401 || ok.status === 403 || ok.json.errcode === 'M_UNRECOGNIZED']).toEqual([op.method, op.path, false]);
        }
      }
    });

    it('only the Authorization header counts; errors are {errcode, error}', async () => {
      expect((await fetch(`${cw.url}/api/admin/v1/events/status?access_token=${ADMIN}`)).status).toBe(401);
      expect(await admin('GET', '/users/nobody')).toMatchObject({ status: 404, json: { errcode: 'M_NOT_FOUND', error: 'user not found' } });
      expect(await admin('GET', '/no/such/route')).toMatchObject({ status: 404, json: { errcode: 'M_UNRECOGNIZED' } });
      expect(await admin('GET', '/users?limit=0')).toMatchObject({ status: 400, json: { errcode: 'M_INVALID_PARAM' } });
      expect(await admin('GET', '/users?unknown=1')).toMatchObject({ status: 400, json: { errcode: 'M_INVALID_PARAM' } });
      expect(await admin('POST', '/users', { localpart: 'x', extra: 1 })).toMatchObject({ status: 400, json: { errcode: 'M_BAD_JSON' } });
      const raw = await fetch(`${cw.url}/api/admin/v1/users`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: '{nope' });
      expect([raw.status, ((await raw.json()) as Json).errcode]).toEqual([400, 'M_NOT_JSON']);
    });

    it('a user’s interactive token with urn:causeway:admin works only for users with the admin right', async () => {
      // root-like is in policy.admin_localparts; plain users are refused the scope at the authorization step.
      // Listed localparts are reserved against first sign-ins (issue 13): the account is pre-provisioned,
      // linked to the identity its owner signs in with.
      expect((await admin('POST', '/users', { localpart: 'root-like', links: [{ provider: 'dev', subject: 'root-like' }], skip_homeserver_check: true })).status).toBe(201);
      const tokens = await signInAndConsent(cw.url, new Browser(), clientId, 'root-like', 'ROOTDEV1', { provider: 'dev' }, undefined);
      expect(tokens.access_token).toBeDefined();
      const p = pkce();
      const browser = new Browser();
      const url = new URL(authorizeUrl(cw.url, { clientId, deviceId: 'ROOTDEV2', challenge: p.challenge, extra: { provider: 'dev' } }));
      url.searchParams.set('scope', `${url.searchParams.get('scope')} urn:causeway:admin`);
      let res = await browser.go(url.href, {}, toClient);
      res = await devSignIn(browser, res, 'root-like');
      const { decide, codeOf, exchange } = await import('../login/login-flow.js');
      if (!res.stoppedAt) res = await decide(browser, res, 'allow');
      const code = codeOf(res.stoppedAt!).code!;
      const granted = (await exchange(cw.url, clientId, code, p.verifier)).json as { access_token: string; scope: string };
      expect(granted.scope).toContain('urn:causeway:admin');
      const me = await admin('GET', '/users/root-like', undefined, granted.access_token);
      expect(me.status).toBe(200);
      await admin('POST', '/users/root-like/set-displayname', { display_name: 'Root' }, granted.access_token);
      const rows = await audit(`user=root-like&action=user.displayname.set`);
      expect(rows.map((r) => r.actor)).toEqual([`user:${me.json.id}`]);

      // A user without the right is refused the scope (the client gets invalid_scope).
      const q = pkce();
      const u2 = new URL(authorizeUrl(cw.url, { clientId, deviceId: 'PLAINDEV', challenge: q.challenge, extra: { provider: 'dev' } }));
      u2.searchParams.set('scope', `${u2.searchParams.get('scope')} urn:causeway:admin`);
      const b2 = new Browser();
      let r2 = await b2.go(u2.href, {}, toClient);
      r2 = await devSignIn(b2, r2, 'plain-user');
      if (!r2.stoppedAt && textOf(r2.body).includes('Allow')) r2 = await decide(b2, r2, 'allow');
      expect(codeOf(r2.stoppedAt!).error).toBe('invalid_scope');
    });
  });

  describe('users', () => {
    let carol: Json;

    it('pre-provisions a user: provisioned at the homeserver through the outbox, audited, and their first sign-in lands on the account', async () => {
      const r = await admin('POST', '/users', { localpart: 'carol', display_name: 'Carol C', emails: ['Carol@Example.org', 'c2@example.org'], links: [{ provider: 'dev', subject: 'carol' }] }, opsToken);
      expect(r).toMatchObject({ status: 201, json: { localpart: 'carol', matrix_id: '@carol:example.test', display_name: 'Carol C', admin: false } });
      carol = r.json;
      const call = await hs.waitForCall((c) => c.path === '/_synapse/mas/provision_user' && (c.body as Json).localpart === 'carol', 10_000);
      expect(call.body).toMatchObject({ set_displayname: 'Carol C', set_emails: ['carol@example.org', 'c2@example.org'] });
      expect(await admin('GET', '/users/carol')).toMatchObject({
        status: 200,
        json: { id: carol.id, emails: expect.arrayContaining(['carol@example.org', 'c2@example.org']), links: [{ provider: 'dev', subject: 'carol' }], active_sessions: 0 },
      });
      expect(((await admin('GET', '/users/carol/emails')).json.data as Json[]).map((e) => e.email).sort()).toEqual(['c2@example.org', 'carol@example.org']);
      const rows = await audit('action=user.create&user=carol');
      expect(rows).toMatchObject([{ actor: `client:${OPS.id}`, target: carol.id, user_id: carol.id }]);

      const tokens = await signInAndConsent(cw.url, new Browser(), clientId, 'carol', 'CAROLDEV1', { provider: 'dev' });
      expect(await whoami(tokens.access_token!)).toBe(200);
      expect((await admin('GET', '/users/carol')).json).toMatchObject({ id: carol.id, active_sessions: 1 });
    });

    it('refuses taken, invalid and unknown-provider creations', async () => {
      expect(await admin('POST', '/users', { localpart: 'carol' })).toMatchObject({ status: 409, json: { errcode: 'CAUSEWAY_CONFLICT' } });
      expect(await admin('POST', '/users', { localpart: 'Bad Name' })).toMatchObject({ status: 400, json: { errcode: 'M_INVALID_PARAM' } });
      expect(await admin('POST', '/users', { localpart: 'zed', links: [{ provider: 'nope', subject: 'z' }] })).toMatchObject({ status: 400 });
      expect(await admin('POST', '/users', { localpart: 'zed2', links: [{ provider: 'dev', subject: 'carol' }] })).toMatchObject({ status: 409 });
      hs.addUser('legacy');
      expect(await admin('POST', '/users', { localpart: 'legacy' })).toMatchObject({ status: 409, json: { errcode: 'CAUSEWAY_CONFLICT' } });
      expect(await admin('POST', '/users', { localpart: 'legacy', skip_homeserver_check: true })).toMatchObject({ status: 201 });
      expect(await audit('action=user.create&user=zed2')).toEqual([]);
    });

    it('lock, unlock, set-admin and set-displayname: each audited with its actor, the homeserver follows', async () => {
      expect(await admin('POST', '/users/carol/lock', undefined, opsToken)).toMatchObject({ status: 200, json: { locked_at: expect.any(Number), sessions_ended: 1 } });
      await waitUntil(() => hs.user('carol')?.locked === true, 10_000, 'the lock to reach the homeserver');
      expect(await admin('POST', '/users/carol/unlock')).toMatchObject({ status: 200, json: { locked_at: null } });
      expect(await admin('POST', '/users/carol/set-admin', { admin: true })).toMatchObject({ status: 200, json: { can_request_admin: true, admin: true } });
      expect((await admin('GET', '/users?admin=true&localpart=carol')).json.data).toMatchObject([{ localpart: 'carol' }]);
      expect(await admin('POST', '/users/carol/set-displayname', { display_name: 'Carol Two' })).toMatchObject({ status: 200, json: { display_name: 'Carol Two' } });
      await hs.waitForCall((c) => c.path === '/_synapse/mas/set_displayname' && (c.body as Json).displayname === 'Carol Two', 10_000);
      const rows = await audit(`user=${carol.id}`);
      expect(rows.map((r) => [r.action, r.actor])).toEqual([
        ['user.create', `client:${OPS.id}`],
        // carol's sign-in (the sign-in audit trail), whose session the lock then ends.
        ['login.attempt', `user:${carol.id}`],
        ['consent.granted', `user:${carol.id}`],
        ['authorization_code.issued', `user:${carol.id}`],
        ['token.issued', `client:${clientId}`],
        ['user.lock', `client:${OPS.id}`],
        ['oauth2_session.end', `client:${OPS.id}`],
        ['user.unlock', 'admin-token'],
        ['user.admin.grant', 'admin-token'],
        ['user.displayname.set', 'admin-token'],
      ]);
    });

    it('demoting ends the sessions holding urn:synapse:admin:*, not the others', async () => {
      const scoped = await signInAndConsent(cw.url, new Browser(), clientId, 'carol', 'CAROLADM', { provider: 'dev' }, undefined);
      const p = pkce();
      const browser = new Browser();
      const url = new URL(authorizeUrl(cw.url, { clientId, deviceId: 'CAROLSYN', challenge: p.challenge, extra: { provider: 'dev' } }));
      url.searchParams.set('scope', `${url.searchParams.get('scope')} urn:synapse:admin:*`);
      const { decide, codeOf, exchange } = await import('../login/login-flow.js');
      let res = await devSignIn(browser, await browser.go(url.href, {}, toClient), 'carol');
      if (!res.stoppedAt) res = await decide(browser, res, 'allow');
      const adminTokens = (await exchange(cw.url, clientId, codeOf(res.stoppedAt!).code!, p.verifier)).json as { access_token: string };
      expect(await whoami(adminTokens.access_token)).toBe(200);
      expect(await admin('POST', '/users/carol/set-admin', { admin: false })).toMatchObject({ status: 200, json: { admin: false, sessions_ended: 1 } });
      await waitUntil(async () => (await whoami(adminTokens.access_token)) === 401, 10_000, 'the admin device to go');
      expect(await whoami(scoped.access_token!)).toBe(200);
    });

    it('the homeserver learns rename, display name, deactivation and reactivation in that order, after an outage', async () => {
      const t = await signInAndConsent(cw.url, new Browser(), clientId, 'dora', 'DORADEV1', { provider: 'dev' });
      expect(await whoami(t.access_token!)).toBe(200);
      hs.clearCalls();
      await hs.goDown();
      expect(await admin('POST', '/users/dora/devices/DORADEV1/rename', { name: 'Dora’s laptop' })).toMatchObject({ status: 200, json: { device_id: 'DORADEV1' } });
      expect(await admin('POST', '/users/dora/set-displayname', { display_name: 'Dora' })).toMatchObject({ status: 200 });
      expect(await admin('POST', '/users/dora/deactivate', { erase: false })).toMatchObject({ status: 200, json: { deactivated_at: expect.any(Number), sessions_ended: 1 } });
      expect(await admin('POST', '/users/dora/reactivate')).toMatchObject({ status: 200, json: { deactivated_at: null } });
      await hs.comeUp();
      await hs.waitForCall((c) => c.path === '/_synapse/mas/reactivate_user' && c.status === 200, 30_000);
      const order = hs.calls
        .filter((c) => c.status < 300 && (c.body as Json)?.localpart === 'dora')
        .map((c) => c.path.replace('/_synapse/mas/', ''))
        .filter((p, i, all) => all.indexOf(p) === i);
      expect(order).toEqual(['update_device_display_name', 'set_displayname', 'delete_user', 'sync_devices', 'reactivate_user']);
      expect(hs.calls.find((c) => c.path.endsWith('update_device_display_name'))!.body).toMatchObject({ device_id: 'DORADEV1', display_name: 'Dora’s laptop' });
      expect(hs.user('dora')).toMatchObject({ deactivated: false });
      // Reactivated: dora can sign in again.
      const again = await signInAndConsent(cw.url, new Browser(), clientId, 'dora', 'DORADEV2', { provider: 'dev' });
      expect(await whoami(again.access_token!)).toBe(200);
      const actions = (await audit('user=dora')).map((r) => r.action);
      expect(actions).toEqual(expect.arrayContaining(['device.rename', 'user.displayname.set', 'user.deactivate', 'user.reactivate']));
    });
  });

  describe('upstream links', () => {
    it('add, replace the subject, remove (not the last one unless forced); each audited', async () => {
      await admin('POST', '/users', { localpart: 'eve', links: [{ provider: 'dev', subject: 'eve-old' }] });
      const added = await admin('POST', '/users/eve/links', { provider: 'other', subject: 'eve@other' });
      expect(added).toMatchObject({ status: 201, json: { provider: 'other', subject: 'eve@other' } });
      expect(await admin('POST', '/users/eve/links', { provider: 'other', subject: 'eve@other' })).toMatchObject({ status: 409 });
      const links = (await admin('GET', '/users/eve/links')).json.data as Json[];
      const devLink = links.find((l) => l.provider === 'dev')!;
      expect(await admin('POST', `/links/${devLink.id}/replace-subject`, { subject: 'eve' })).toMatchObject({ status: 200, json: { subject: 'eve' } });
      // The re-keyed identity signs in to the same account.
      const t = await signInAndConsent(cw.url, new Browser(), clientId, 'eve', 'EVEDEV01', { provider: 'dev' });
      expect(await whoami(t.access_token!)).toBe(200);
      expect(await admin('DELETE', `/links/${added.json.id}`)).toMatchObject({ status: 200 });
      expect(await admin('DELETE', `/links/${devLink.id}`)).toMatchObject({ status: 409, json: { errcode: 'CAUSEWAY_LAST_SIGN_IN_METHOD' } });
      expect(await admin('DELETE', `/links/${devLink.id}?force=true`)).toMatchObject({ status: 200 });
      expect((await admin('GET', '/users/eve/links')).json.data).toEqual([]);
      expect((await audit('user=eve')).map((r) => [r.action, r.details && (r.details as Json).subject])).toEqual([
        ['user.create', undefined],
        ['upstream_link.add', 'eve@other'],
        ['upstream_link.replace_subject', 'eve'],
        // The sign-in with the re-keyed identity (the sign-in audit trail).
        ['login.attempt', 'eve'],
        ['consent.granted', undefined],
        ['authorization_code.issued', undefined],
        ['token.issued', undefined],
        ['upstream_link.remove', 'eve@other'],
        ['upstream_link.remove', 'eve'],
      ]);
    });
  });

  describe('sessions and clients', () => {
    let fred: Record<string, string>;
    let otherClient: string;

    beforeAll(async () => {
      otherClient = await registerClient(cw.url, webClient('Doomed client'));
      fred = await signInAndConsent(cw.url, new Browser(), clientId, 'fred', 'FREDDEV1', { provider: 'dev' });
      await signInAndConsent(cw.url, new Browser(), otherClient, 'fred', 'FREDDEV2', { provider: 'dev' });
    });

    it('lists sessions per user and globally, filtered by kind, state, client and device', async () => {
      const all = (await admin('GET', '/users/fred/sessions')).json.data as Json[];
      expect(all.map((s) => s.kind).sort()).toEqual(['browser', 'browser', 'oauth2', 'oauth2']);
      const oauth = (await admin('GET', `/sessions?user=fred&kind=oauth2&state=active&client=${otherClient}`)).json.data as Json[];
      expect(oauth).toMatchObject([{ kind: 'oauth2', client_id: otherClient, device_id: 'FREDDEV2', active: true, scope: expect.arrayContaining(['urn:matrix:client:device:FREDDEV2']) }]);
      // The address each session was last active from (token request, sign-in).
      expect(all.map((s) => s.last_active_ip)).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1']);
      expect(((await admin('GET', '/sessions?user=fred&ip=127.0.0.1')).json.data as Json[]).length).toBe(4);
      expect((await admin('GET', '/sessions?user=fred&ip=10.9.9.9')).json.data).toEqual([]);
      expect((await admin('GET', '/sessions?device=FREDDEV1')).json.data).toMatchObject([{ device_id: 'FREDDEV1' }]);
      expect(await admin('GET', `/sessions/${oauth[0]!.id}`)).toMatchObject({ status: 200, json: { id: oauth[0]!.id } });
      const paged = await admin('GET', '/users/fred/sessions?limit=3');
      expect((paged.json.data as Json[]).length).toBe(3);
      const rest = await admin('GET', `/users/fred/sessions?limit=3&after=${paged.json.next_after}`);
      expect(rest.json).toMatchObject({ next_after: null });
      expect([...(paged.json.data as Json[]), ...(rest.json.data as Json[])].map((s) => s.id)).toEqual(all.map((s) => s.id));
    });

    it('deleting a dynamic client ends its sessions; static clients stay', async () => {
      expect(await admin('GET', `/clients/${otherClient}`)).toMatchObject({ status: 200, json: { origin: 'dynamic', client_name: 'Doomed client' } });
      expect(((await admin('GET', '/clients?limit=1000')).json.data as Json[]).map((c) => c.client_id)).toEqual(expect.arrayContaining([OPS.id, clientId, otherClient]));
      expect(await admin('DELETE', `/clients/${otherClient}`)).toMatchObject({ status: 200, json: { deleted: true, sessions_ended: 1 } });
      await waitUntil(() => hs.devices('fred').join() === 'FREDDEV1', 10_000, 'FREDDEV2 to leave the homeserver');
      expect(await admin('GET', `/clients/${otherClient}`)).toMatchObject({ status: 404 });
      expect(await admin('DELETE', `/clients/${OPS.id}`)).toMatchObject({ status: 409, json: { errcode: 'CAUSEWAY_WRONG_STATE' } });
      expect(await audit(`action=client.delete`)).toMatchObject([{ target: otherClient, actor: 'admin-token' }]);
    });

    it('ends one session, every session of a client, every session of a user', async () => {
      expect(await admin('POST', `/clients/${clientId}/sessions/end`)).toMatchObject({ status: 200, json: { ended: expect.any(Number) } });
      expect(await whoami(fred.access_token!)).toBe(401);
      const t = await signInAndConsent(cw.url, new Browser(), clientId, 'fred', 'FREDDEV3', { provider: 'dev' });
      const [live] = (await admin('GET', '/sessions?user=fred&kind=oauth2&state=active')).json.data as Json[];
      expect(await admin('POST', `/sessions/${live!.id}/end`)).toMatchObject({ status: 200, json: { ended: true } });
      expect(await admin('POST', `/sessions/${live!.id}/end`)).toMatchObject({ status: 200, json: { ended: false } });
      await waitUntil(async () => (await whoami(t.access_token!)) === 401, 10_000, 'the ended session’s device to go');
      const rows = await db.ds.manager.find(AuditLogEntity, { where: { action: 'oauth2_session.end', target: live!.id as string } });
      expect(rows.map((r) => [r.actor, r.user_id])).toEqual([['admin-token', expect.any(String)]]);
      expect(await admin('POST', '/users/fred/sessions/end')).toMatchObject({ status: 200, json: { ended: expect.any(Number) } });
      expect((await admin('GET', '/sessions?user=fred&state=active')).json.data).toEqual([]);
    });
  });

  describe('personal access tokens', () => {
    beforeAll(async () => {
      await admin('POST', '/users', { localpart: 'botty', links: [{ provider: 'dev', subject: 'botty' }] });
      await admin('POST', '/users', { localpart: 'boss', admin: true });
    });

    it('work for whoami at the homeserver, are listed, and are refused once revoked', async () => {
      const r = await admin('POST', '/users/botty/personal-tokens', { name: 'CI bot' });
      expect(r).toMatchObject({ status: 201, json: { name: 'CI bot', access_token: expect.stringMatching(/^mpt_/), device_id: expect.any(String), device_ready: true, expires_at: null } });
      const token = r.json.access_token as string;
      expect(await whoami(token)).toBe(200);
      expect(hs.devices('botty')).toEqual([r.json.device_id]);
      expect((await admin('GET', '/personal-tokens?user=botty')).json.data).toMatchObject([{ id: r.json.id, kind: 'personal', name: 'CI bot', active: true }]);
      expect(JSON.stringify((await admin('GET', '/personal-tokens?user=botty')).json)).not.toContain(token);
      expect(await admin('POST', `/personal-tokens/${r.json.id}/revoke`)).toMatchObject({ status: 200, json: { revoked: true } });
      await waitUntil(async () => (await whoami(token)) === 401, 10_000, 'the revoked token to be refused');
      expect(await audit('user=botty&action=personal_token.issue')).toMatchObject([{ actor: 'admin-token', details: { name: 'CI bot' } }]);
    });

    it('an admin-scoped token only for users with the admin right', async () => {
      const scope = ['urn:matrix:client:api:*', 'urn:synapse:admin:*'];
      expect(await admin('POST', '/users/botty/personal-tokens', { name: 'sneaky', scope })).toMatchObject({ status: 403, json: { errcode: 'M_FORBIDDEN' } });
      const ok = await admin('POST', '/users/boss/personal-tokens', { name: 'ops', scope });
      expect(ok.status).toBe(201);
      const requester = await hs.authenticate(ok.json.access_token as string);
      expect(requester).toMatchObject({ isAdmin: true });
    });

    it('are refused after they expire', async () => {
      const r = await admin('POST', '/users/botty/personal-tokens', { name: 'short', expires_in: 60 });
      expect(r.json.expires_at).toBeGreaterThan(Date.now() + 50_000);
      const token = r.json.access_token as string;
      expect(await whoami(token)).toBe(200);
      hs.advanceClock(61_000);
      try {
        expect(await whoami(token)).toBe(401);
      } finally {
        hs.advanceClock(-61_000);
      }
    });
  });

  describe('audit log and operations', () => {
    it('queries by user, actor, action and time range, both orders, with a cursor', async () => {
      const all = await audit('limit=1000');
      expect(all.length).toBeGreaterThan(10);
      const ids = all.map((r) => r.id as string);
      expect([...ids].sort()).toEqual(ids);
      const desc = await audit('limit=1000&order=desc');
      expect(desc.map((r) => r.id)).toEqual([...ids].reverse());
      const mid = all[5]!.created_at as number;
      expect((await audit(`since=${mid}&limit=1000`)).every((r) => (r.created_at as number) >= mid)).toBe(true);
      expect((await audit(`until=${mid}&limit=1000`)).every((r) => (r.created_at as number) < mid)).toBe(true);
      expect((await audit(`actor=client:${OPS.id}&limit=1000`)).every((r) => r.actor === `client:${OPS.id}`)).toBe(true);
      const first = await admin('GET', '/audit?limit=2&action=user.create');
      const second = await admin('GET', `/audit?limit=2&action=user.create&after=${first.json.next_after}`);
      expect([...(first.json.data as Json[]), ...(second.json.data as Json[])].map((r) => r.action)).toEqual(['user.create', 'user.create', 'user.create', 'user.create']);
    });

    it('bus status, dead letters and providers', async () => {
      await waitUntil(async () => (await db.undelivered()) === 0, 10_000, 'every event to be delivered');
      expect(await admin('GET', '/events/status')).toMatchObject({ status: 200, json: { driver: 'in-process', undelivered: 0, dead_letters: 0, homeserver_down: false } });
      expect(await admin('GET', '/events/dead-letters')).toMatchObject({ status: 200, json: { data: [], next_after: null } });
      expect(await admin('POST', '/events/dead-letters/12345/replay')).toMatchObject({ status: 404 });
      // Two events the delivery gave up on (a user the homeserver does not know: permanent errors).
      for (const kind of ['user.reactivate', 'user.reactivate']) {
        await db.enqueue('nobody-here', kind);
        await waitUntil(async () => (await db.outbox()).filter((r) => r.dead_at !== null).length >= 1, 15_000, 'a dead letter');
      }
      await waitUntil(async () => (await db.outbox()).filter((r) => r.dead_at !== null).length === 2, 15_000, 'two dead letters');
      const dead = (await admin('GET', '/events/dead-letters')).json.data as Json[];
      expect(dead).toMatchObject([{ user: 'nobody-here', kind: 'user.reactivate' }, { user: 'nobody-here' }]);
      expect(await admin('POST', `/events/dead-letters/${dead[0]!.id}/replay`)).toMatchObject({ status: 200, json: { replayed: [dead[0]!.id] } });
      // The replayed one may already be dead again (its error is permanent): replaying all takes it too.
      expect(await admin('POST', '/events/dead-letters/replay', undefined, opsToken)).toMatchObject({ status: 200, json: { replayed: expect.arrayContaining([dead[1]!.id]) } });
      expect((await admin('GET', '/providers')).json.data).toEqual([
        { id: 'dev', kind: 'dev', name: 'Development sign-in', status: 'up', checks: {} },
        { id: 'other', kind: 'dev', name: 'Another directory', status: 'up', checks: {} },
      ]);
    });

    it('every mutating route of the document wrote its audit row, naming the caller', async () => {
      const ACTION: Record<string, string> = {
        createUser: 'user.create',
        lockUser: 'user.lock',
        unlockUser: 'user.unlock',
        deactivateUser: 'user.deactivate',
        reactivateUser: 'user.reactivate',
        setUserAdmin: 'user.admin.grant',
        setUserDisplayName: 'user.displayname.set',
        endUserSessions: 'user.sessions.end_all',
        addUserLink: 'upstream_link.add',
        renameDevice: 'device.rename',
        issuePersonalToken: 'personal_token.issue',
        endSession: 'oauth2_session.end',
        revokePersonalToken: 'oauth2_session.end',
        removeLink: 'upstream_link.remove',
        replaceLinkSubject: 'upstream_link.replace_subject',
        deleteClient: 'client.delete',
        endClientSessions: 'client.sessions.end_all',
        replayDeadLetter: 'events.dead_letter.replay',
        replayDeadLetters: 'events.dead_letter.replay',
      };
      const doc = (await admin('GET', '/openapi.json')).json as { paths: Record<string, Record<string, { operationId: string }>> };
      const mutations = Object.values(doc.paths).flatMap((ops) =>
        Object.entries(ops)
          .filter(([m]) => m !== 'get')
          .map(([, op]) => op.operationId),
      );
      expect(mutations.sort()).toEqual(Object.keys(ACTION).sort());
      const rows = await audit('limit=1000');
      const callers = new Set(rows.filter((r) => r.actor === 'admin-token' || r.actor === `client:${OPS.id}` || String(r.actor).startsWith('user:')).map((r) => r.action));
      for (const [op, action] of Object.entries(ACTION)) expect([op, callers.has(action)]).toEqual([op, true]);
      expect(rows.filter((r) => r.action === 'events.dead_letter.replay').map((r) => [r.target, r.actor])).toEqual([
        [expect.any(String), 'admin-token'],
        ['all', `client:${OPS.id}`],
      ]);
    });
  });
});

describe('admin API without admin.token', () => {
  let cw: CausewayProcess;
  beforeAll(async () => {
    cw = await startCauseway({});
  });
  afterAll(() => cw?.dispose());

  it('is off: no routes, not even the document', async () => {
    expect((await fetch(`${cw.url}/api/admin/v1/events/status`, { headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(404);
    expect((await fetch(`${cw.url}/api/admin/v1/openapi.json`)).status).toBe(404);
  });
});
