import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { waitUntil } from '../../support/causeway-db.js';
import { TEST_DBS } from '../../support/databases.js';
import { Browser, textOf } from '../../support/browser.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { bearer, postForm, registerClient } from '../oauth2/oauth-http.js';
import { signInAndConsent, webClient } from '../login/login-flow.js';
import { postJson, sql, ssoLogin } from '../compat/compat-flow.js';

/**
 * Session lifecycle with an injected clock (CAUSEWAY_TEST_CLOCK_FILE, dev mode only): the test
 * moves the running server's time by days; the maintenance sweep (every second here) ends what
 * `sessions.*` says, and the homeserver stand-in sees the devices go.
 */

const DAY = 86_400_000;

/** A server whose clock the test moves forward. */
class TestClock {
  private offset = 0;
  constructor(readonly file: string) {
    writeFileSync(file, '0');
  }
  advance(ms: number) {
    this.offset += ms;
    writeFileSync(this.file, String(this.offset));
  }
}

const introspect = async (cw: CausewayProcess, token: string) => (await postForm(`${cw.url}/oauth2/introspect`, { token }, bearer(SHARED_SECRET))).json as { active: boolean };

describe.each(TEST_DBS)('session lifecycle on %s', (db) => {
  let hs: HomeserverStandin;
  let dir: string;
  /** inactive_after 30d, browser sessions idle after 7d, at most 2 OAuth and 1 compat session per user; refresh tokens never expire. */
  let idle: CausewayProcess;
  let idleClock: TestClock;
  /** Refresh tokens live 2 days. */
  let expiring: CausewayProcess;
  let expiringClock: TestClock;
  let idleClient: string;
  let expiringClient: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'causeway-lifecycle-'));
    hs = await startHomeserverStandin({ secret: SHARED_SECRET, cache: false });
    const matrix = { homeserver: hs.serverName, endpoint: `${hs.url}/`, secret: SHARED_SECRET };
    idleClock = new TestClock(join(dir, 'idle-clock'));
    expiringClock = new TestClock(join(dir, 'expiring-clock'));
    [idle, expiring] = await Promise.all([
      startCauseway({
        db,
        env: { CAUSEWAY_TEST_CLOCK_FILE: idleClock.file },
        config: {
          matrix,
          tokens: { refresh_token_ttl: 0 },
          login: { browser_session_ttl: '90d' },
          sessions: { inactive_after: '30d', browser_inactive_after: '7d', max_per_user: { oauth: 2, compat: 1 } },
          retention: { interval: 1 },
        },
      }),
      startCauseway({ db, env: { CAUSEWAY_TEST_CLOCK_FILE: expiringClock.file }, config: { matrix, tokens: { refresh_token_ttl: '2d' }, retention: { interval: 1 } } }),
    ]);
    // Both servers share the stand-in; the users of each test differ.
    hs.setEndpoint(idle.issuer);
    idleClient = await registerClient(idle.url, webClient('Lifecycle app'));
    expiringClient = await registerClient(expiring.url, webClient('Expiry app'));
  }, 120_000);

  afterAll(async () => {
    await Promise.all([idle?.dispose(), expiring?.dispose()]);
    await hs?.stop();
    rmSync(dir, { recursive: true, force: true });
    for (const cw of [idle, expiring]) if (cw) expect(cw.logs.filter((l) => l.includes('"status":500'))).toEqual([]);
  });

  const finishReason = async (cw: CausewayProcess, table: 'oauth2_sessions' | 'compat_sessions', deviceId: string) =>
    (await sql<{ finish_reason: string | null }>(cw, `SELECT finish_reason FROM ${table} WHERE device_id = $1`, [deviceId]))[0]?.finish_reason;

  it('max_per_user: a third OAuth session ends the oldest (device removed); a second compat session ends the first', async () => {
    const browser = new Browser();
    for (const device of ['MANY1', 'MANY2', 'MANY3']) await signInAndConsent(idle.url, browser, idleClient, 'many', device);
    await waitUntil(() => !hs.devices('many').includes('MANY1'), 10_000, 'MANY1 removed at the homeserver');
    expect(hs.devices('many')).toEqual(['MANY2', 'MANY3']);
    expect(await finishReason(idle, 'oauth2_sessions', 'MANY1')).toBe('session_limit');
    expect(await finishReason(idle, 'oauth2_sessions', 'MANY2')).toBeNull();

    const legacy = new Browser();
    for (const device of ['LEG1', 'LEG2']) {
      const { loginToken } = await ssoLogin(legacy, idle.url, 'legacyman');
      const res = await postJson(`${idle.url}/_matrix/client/v3/login`, { type: 'm.login.token', token: loginToken, device_id: device });
      expect(res.status).toBe(200);
    }
    await waitUntil(() => !hs.devices('legacyman').includes('LEG1'), 10_000, 'LEG1 removed at the homeserver');
    expect(hs.devices('legacyman')).toEqual(['LEG2']);
    expect(await finishReason(idle, 'compat_sessions', 'LEG1')).toBe('session_limit');
  });

  it('inactive_after: sessions not used for 30 days end and their devices leave the homeserver; used ones stay', async () => {
    const browser = new Browser();
    const quiet = await signInAndConsent(idle.url, browser, idleClient, 'quiet', 'QUIETDEV');
    const busy = await signInAndConsent(idle.url, new Browser(), idleClient, 'busy', 'BUSYDEV');
    const legacy = new Browser();
    const { loginToken } = await ssoLogin(legacy, idle.url, 'oldcompat');
    const compat = await postJson(`${idle.url}/_matrix/client/v3/login`, { type: 'm.login.token', token: loginToken, device_id: 'COMPATIDLE' });
    expect(compat.status).toBe(200);
    // A legacy client that only ever talks to the homeserver: its use is seen by introspection alone.
    const { loginToken: talkToken } = await ssoLogin(new Browser(), idle.url, 'talker');
    const talker = await postJson(`${idle.url}/_matrix/client/v3/login`, { type: 'm.login.token', token: talkToken, device_id: 'TALKDEV' });
    expect(talker.status).toBe(200);
    expect(hs.devices('quiet')).toEqual(['QUIETDEV']);

    idleClock.advance(20 * DAY);
    const whoami = await fetch(`${hs.url}/_matrix/client/v3/account/whoami`, { headers: { authorization: `Bearer ${talker.json.access_token as string}` } });
    expect(whoami.status).toBe(200);
    // busy refreshes on day 20 (a use); quiet and the compat session do nothing.
    const refreshed = await postForm(`${idle.url}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: busy.refresh_token!, client_id: idleClient });
    expect(refreshed.status).toBe(200);
    idleClock.advance(11 * DAY);

    await waitUntil(() => hs.devices('quiet').length === 0 && hs.devices('oldcompat').length === 0, 15_000, 'idle devices removed at the homeserver');
    expect(await finishReason(idle, 'oauth2_sessions', 'QUIETDEV')).toBe('inactive');
    expect(await finishReason(idle, 'compat_sessions', 'COMPATIDLE')).toBe('inactive');
    expect(await introspect(idle, quiet.access_token!)).toEqual({ active: false });
    expect(await introspect(idle, compat.json.access_token as string)).toEqual({ active: false });
    // talker was used through the homeserver 11 days ago (recorded by introspection, written by the sweep's flush).
    expect(hs.devices('talker')).toEqual(['TALKDEV']);
    expect(await finishReason(idle, 'compat_sessions', 'TALKDEV')).toBeNull();
    // busy was used 11 days ago: still signed in (its access token expired meanwhile; a refresh works).
    expect(hs.devices('busy')).toEqual(['BUSYDEV']);
    expect(await finishReason(idle, 'oauth2_sessions', 'BUSYDEV')).toBeNull();
    const again = await postForm(`${idle.url}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: refreshed.json.refresh_token as string, client_id: idleClient });
    expect(again.status).toBe(200);
    expect(await introspect(idle, again.json.access_token as string)).toMatchObject({ active: true });
  });

  it('browser sessions end on idle (sessions.browser_inactive_after)', async () => {
    const browser = new Browser();
    await signInAndConsent(idle.url, browser, idleClient, 'webuser', 'WEBDEV');
    expect(textOf((await browser.go(`${idle.url}/account/`)).body)).toContain('@webuser:');
    idleClock.advance(6 * DAY);
    // Used on day 6: the idle time starts again.
    expect(textOf((await browser.go(`${idle.url}/account/`)).body)).toContain('@webuser:');
    idleClock.advance(6 * DAY);
    expect(textOf((await browser.go(`${idle.url}/account/`)).body)).toContain('@webuser:');
    idleClock.advance(8 * DAY);
    const page = await browser.go(`${idle.url}/account/`);
    expect(textOf(page.body)).not.toContain('@webuser:');
    expect(textOf(page.body)).toContain('development sign-in');
    await waitUntil(
      async () => Number((await sql<{ n: number }>(idle, 'SELECT count(*) AS n FROM browser_sessions b JOIN users u ON u.id = b.user_id WHERE u.localpart = $1 AND b.finished_at IS NULL', ['webuser']))[0]!.n) === 0,
      15_000,
      'the idle browser session marked finished by the sweep',
    );
  });

  it('an expired refresh token ends its session (device removed); a session whose client never comes back is ended by the sweep', async () => {
    hs.setEndpoint(expiring.issuer);
    const returning = await signInAndConsent(expiring.url, new Browser(), expiringClient, 'returning', 'RETDEV');
    await signInAndConsent(expiring.url, new Browser(), expiringClient, 'gone', 'GONEDEV');
    expect(hs.devices('returning')).toEqual(['RETDEV']);
    expiringClock.advance(3 * DAY);
    const refresh = await postForm(`${expiring.url}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: returning.refresh_token!, client_id: expiringClient });
    expect(refresh.status).toBe(400);
    expect(refresh.json).toMatchObject({ error: 'invalid_grant' });
    expect(String(refresh.json.error_description)).toContain('expired');
    await waitUntil(() => hs.devices('returning').length === 0 && hs.devices('gone').length === 0, 15_000, 'expired devices removed at the homeserver');
    expect(await finishReason(expiring, 'oauth2_sessions', 'RETDEV')).toBe('expired');
    expect(await finishReason(expiring, 'oauth2_sessions', 'GONEDEV')).toBe('expired');
  });
});
