import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { runCli, SHARED_SECRET, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { waitUntil } from '../../support/causeway-db.js';
import { TEST_DBS } from '../../support/databases.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { ADMIN, adminCall, whoamiAt, type Json } from './admin-http.js';

/**
 * `causeway manage …` against a database a running server also uses, on each database: the same
 * operations as the admin API (JSON parsed here, tables for people), audited as `cli:<os user>`,
 * delivered to the homeserver by the server through the outbox, and usable while the homeserver
 * is down.
 */
// Each command is a process that boots the application (about a second of CPU): a test runs several.
jest.setTimeout(180_000);

describe.each(TEST_DBS)('causeway manage on %s', (kind) => {
  let hs: HomeserverStandin;
  let cw: CausewayProcess;
  let config: string;
  const actor = `cli:${userInfo().username}`;

  const manage = async (...args: string[]) => {
    const r = await runCli(['manage', ...args, '-c', config], { cwd: cw.dir });
    return {
      ...r,
      json: (() => {
        try {
          return JSON.parse(r.stdout) as Json;
        } catch {
          return undefined;
        }
      })(),
    };
  };
  const ok = async (...args: string[]) => {
    const r = await manage(...args, '--json');
    expect([args.join(' '), r.code, r.stderr]).toEqual([args.join(' '), 0, '']);
    return r.json!;
  };
  const whoami = (token: string) => whoamiAt(hs.url, token);

  beforeAll(async () => {
    hs = await startHomeserverStandin({ secret: SHARED_SECRET });
    cw = await startCauseway({
      db: kind,
      config: {
        matrix: { endpoint: `${hs.url}/` },
        admin: { token: ADMIN },
        upstream: {
          providers: [
            { id: 'dev', kind: 'dev', name: 'Development sign-in' },
            { id: 'other', kind: 'dev', name: 'Other' },
          ],
        },
      },
    });
    hs.setEndpoint(cw.issuer);
    config = join(cw.dir, `gateway-${cw.port}.yaml`);
  });
  afterAll(async () => {
    await cw?.dispose();
    await hs?.stop();
  });

  it('user create, list, show: JSON as the API answers it, a table for people', async () => {
    const created = await ok('user', 'create', 'gina', '--display-name', 'Gina', '--email', 'Gina@Example.org', '--link', 'dev:gina');
    expect(created).toMatchObject({ localpart: 'gina', matrix_id: '@gina:example.test', display_name: 'Gina', admin: false });
    const call = await hs.waitForCall((c) => c.path === '/_synapse/mas/provision_user' && (c.body as Json).localpart === 'gina', 10_000);
    expect(call.body).toMatchObject({ set_displayname: 'Gina', set_emails: ['gina@example.org'] });
    const list = await ok('user', 'list', '--localpart', 'gi');
    expect(list).toEqual({ data: [created], next_after: null });
    expect((await adminCall(cw.url, 'GET', '/users?localpart=gi')).json).toEqual(list);
    expect(await ok('user', 'show', 'gina')).toMatchObject({ id: created.id, emails: ['gina@example.org'], links: [{ provider: 'dev', subject: 'gina' }], active_sessions: 0 });
    const table = await manage('user', 'list');
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+LOCALPART\s+DISPLAY_NAME\s+LOCKED_AT\s+DEACTIVATED_AT\s+ADMIN$/);
    expect(table.stdout).toMatch(/gina\s+Gina\s+-\s+-\s+false/);
  });

  it('lock, unlock, promote, demote, deactivate, reactivate; audited as cli:<user>', async () => {
    expect(await ok('user', 'lock', 'gina')).toMatchObject({ locked_at: expect.any(Number), sessions_ended: 0 });
    await waitUntil(() => hs.user('gina')?.locked === true, 10_000, 'the lock to reach the homeserver');
    expect(await ok('user', 'unlock', 'gina')).toMatchObject({ locked_at: null });
    expect(await ok('user', 'promote', 'gina')).toMatchObject({ can_request_admin: true, admin: true });
    expect(await ok('user', 'demote', 'gina')).toMatchObject({ can_request_admin: false, admin: false });
    expect(await ok('user', 'deactivate', 'gina', '--no-erase')).toMatchObject({ deactivated_at: expect.any(Number) });
    await hs.waitForCall((c) => c.path === '/_synapse/mas/delete_user' && (c.body as Json).localpart === 'gina', 10_000).then((c) => expect(c.body).toMatchObject({ erase: false }));
    expect(await ok('user', 'reactivate', 'gina')).toMatchObject({ deactivated_at: null });
    await hs.waitForCall((c) => c.path === '/_synapse/mas/reactivate_user' && (c.body as Json).localpart === 'gina', 10_000);
    const rows = (await adminCall(cw.url, 'GET', '/audit?user=gina')).json.data as Json[];
    expect(rows.map((r) => [r.action, r.actor])).toEqual(['user.create', 'user.lock', 'user.unlock', 'user.admin.grant', 'user.admin.revoke', 'user.deactivate', 'user.reactivate'].map((a) => [a, actor]));
  });

  it('link add, replace and remove (the last one only with --force)', async () => {
    expect(await ok('link', 'add', 'gina', 'other', 'gina@other')).toMatchObject({ provider: 'other', subject: 'gina@other' });
    expect(await ok('link', 'replace', 'other', 'gina@other', 'gina@new')).toMatchObject({ provider: 'other', subject: 'gina@new' });
    expect(await ok('link', 'remove', 'other', 'gina@new')).toMatchObject({ subject: 'gina@new' });
    const last = await manage('link', 'remove', 'dev', 'gina', '--json');
    expect([last.code, last.json?.errcode]).toEqual([2, 'CAUSEWAY_LAST_SIGN_IN_METHOD']);
    expect(last.stderr).toContain('last upstream link');
  });

  it('token issue: a personal token printed once that works at the homeserver; sessions end --user ends it', async () => {
    const t = await ok('token', 'issue', '--user', 'gina', '--expires', '30d', '--name', 'deploy bot');
    expect(t).toMatchObject({ name: 'deploy bot', access_token: expect.stringMatching(/^mpt_/), device_ready: true });
    expect(t.expires_at as number).toBeGreaterThan(Date.now() + 29 * 86400_000);
    expect(await whoami(t.access_token as string)).toBe(200);
    const human = await manage('token', 'issue', '--user', 'gina', '--name', 'second');
    expect(human.stdout).toMatch(/access token \(shown once\):\nmpt_\w+_\w+\n$/);
    expect(await ok('sessions', 'end', '--user', 'gina')).toEqual({ ended: 2 });
    await waitUntil(async () => (await whoami(t.access_token as string)) === 401, 10_000, 'the token’s device to leave the homeserver');
  });

  it('works while the homeserver is down: the change waits in the outbox; dead letters list and replay', async () => {
    await hs.goDown();
    try {
      expect(await ok('user', 'lock', 'gina')).toMatchObject({ locked_at: expect.any(Number) });
    } finally {
      await hs.comeUp();
    }
    await waitUntil(() => hs.user('gina')?.locked === true, 30_000, 'the lock to reach the homeserver after the outage');
    expect(await ok('dead-letters', 'list')).toEqual({ data: [], next_after: null });
    expect(await ok('dead-letters', 'replay')).toEqual({ replayed: [] });
    const usage = await manage('user', 'list', '--status', 'sleepy', '--json');
    expect([usage.code, usage.json?.errcode]).toEqual([2, 'M_INVALID_PARAM']);
  });
});
