import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, SHARED_SECRET, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { TEST_DBS } from '../../support/databases.js';
import { waitUntil } from '../../support/causeway-db.js';
import { Browser } from '../../support/browser.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { postForm, registerClient } from '../oauth2/oauth-http.js';
import { signInAndConsent, webClient } from '../login/login-flow.js';
import { sql } from '../compat/compat-flow.js';

/**
 * Retention under churn: a simulated month (the server's clock moved a day at a time) of sign-ins,
 * refreshes and sign-outs while the server's own maintenance sweep runs every second, as in
 * production. Prints the row count of every table before the month (after a warm-up week) and
 * after it, and how long a sweep statement could have held up a sign-in; checks that the tables did
 * not grow with the churn and that afterwards nothing is left that retention would delete. Scale
 * with CAUSEWAY_CHURN_USERS and CAUSEWAY_CHURN_PER_DAY (CI default: 4 users × 3 sign-ins a day over
 * 37 days, 444 sign-ins per database; `npm run bench:retention` runs about 4,400).
 */

const USERS = Number(process.env.CAUSEWAY_CHURN_USERS ?? 4);
const PER_DAY = Number(process.env.CAUSEWAY_CHURN_PER_DAY ?? 3);
const WARM_UP_DAYS = 7;
const DAYS = 30;
const DAY = 86_400_000;
const TABLES = [
  'users',
  'upstream_links',
  'browser_sessions',
  'upstream_sessions',
  'consents',
  'clients',
  'authorization_grants',
  'oauth2_sessions',
  'access_tokens',
  'refresh_tokens',
  'device_codes',
  'compat_sessions',
  'compat_tokens',
  'kv_entries',
  'outbox',
  'audit_log',
] as const;

/** Runs `fn` over `items` with at most `width` at once. */
async function pool<T>(items: T[], width: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : NaN;
};

interface SweepLog {
  msg: string;
  started: string;
  longestBatchMs: number;
  batches: number;
  durationMs: number;
  deleted: Record<string, number>;
}

describe.each(TEST_DBS)('retention under a month of churn on %s', (db) => {
  let hs: HomeserverStandin;
  let cw: CausewayProcess;
  let clientId: string;
  let clockFile: string;
  let offset = 0;
  const advance = (ms: number) => {
    offset += ms;
    writeFileSync(clockFile, String(offset));
  };

  beforeAll(async () => {
    hs = await startHomeserverStandin({ secret: SHARED_SECRET, cache: false });
    clockFile = join(mkdtempSync(join(tmpdir(), 'causeway-churn-')), 'clock');
    writeFileSync(clockFile, '0');
    cw = await startCauseway({
      db,
      env: { CAUSEWAY_TEST_CLOCK_FILE: clockFile, CAUSEWAY_RATE_LIMIT_SCALE: '1000' },
      config: {
        matrix: { homeserver: hs.serverName, endpoint: `${hs.url}/`, secret: SHARED_SECRET },
        logging: { level: 'info' },
        tokens: { refresh_token_ttl: '14d' },
        login: { browser_session_ttl: '7d' },
        sessions: { inactive_after: '5d' },
        retention: { interval: 1, batch_size: 100, tokens: '1d', sessions: '3d', outbox: '1d', audit: '7d' },
      },
    });
    hs.setEndpoint(cw.issuer);
    clientId = await registerClient(cw.url, webClient('Churn app'));
  }, 120_000);

  afterAll(async () => {
    await cw?.dispose();
    await hs?.stop();
  });

  const counts = async (): Promise<Record<string, number>> => Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, Number((await sql<{ n: number }>(cw, `SELECT count(*) AS n FROM ${t}`))[0]!.n)] as const)));
  const sweeps = (): SweepLog[] => cw.logs.filter((l) => l.includes('"maintenance sweep finished"')).map((l) => JSON.parse(l) as SweepLog);
  /** Waits for a sweep that started after now (so it saw the clock as it is now). */
  async function nextSweep(): Promise<SweepLog> {
    const since = new Date().toISOString();
    await waitUntil(() => sweeps().some((s) => s.started > since), 20_000, 'a maintenance sweep');
    return sweeps().find((s) => s.started > since)!;
  }

  it(
    'keeps every table to its live data through a month of churn, and never holds a sign-in up for long',
    async () => {
      const users = Array.from({ length: USERS }, (_, i) => ({ browser: new Browser(), name: `churn${i}` }));
      const stats = { logins: 0, refreshes: 0, signOuts: 0 };
      const signInMs: number[] = [];

      const day = (d: number) =>
        pool(users, 6, async (u) => {
          const live: string[] = [];
          for (let l = 0; l < PER_DAY; l++) {
            const t0 = performance.now();
            const t = await signInAndConsent(cw.url, u.browser, clientId, u.name, `${u.name.toUpperCase()}D${d}L${l}`);
            signInMs.push(performance.now() - t0);
            stats.logins++;
            const r = await postForm(`${cw.url}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: t.refresh_token!, client_id: clientId });
            expect(r.status).toBe(200);
            stats.refreshes++;
            live.push(r.json.refresh_token as string);
          }
          // All but one sign out the same day; the last one stays signed in (and goes idle later).
          for (const refresh of live.slice(1)) {
            expect((await postForm(`${cw.url}/oauth2/revoke`, { token: refresh, client_id: clientId })).status).toBe(200);
            stats.signOuts++;
          }
        });

      for (let d = 0; d < WARM_UP_DAYS; d++) {
        await day(d);
        advance(DAY);
      }
      await nextSweep();
      const before = await counts();
      const started = Date.now();
      const firstSweep = sweeps().length;
      for (let d = WARM_UP_DAYS; d < WARM_UP_DAYS + DAYS; d++) {
        await day(d);
        advance(DAY);
      }
      const churnSeconds = (Date.now() - started) / 1000;
      // Events reach the homeserver asynchronously, and a delivered outbox row is deleted by the
      // next sweep: the last day's sign-outs, and the sign-outs of the sessions a sweep itself ends,
      // are delivered after it. So: let every row be delivered, sweep, and once more (the second
      // sweep deletes what the first one's endings wrote, and ends nothing itself).
      const undelivered = async () => Number((await sql<{ n: number }>(cw, 'SELECT count(*) AS n FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL'))[0]!.n);
      for (let round = 0; round < 2; round++) {
        await waitUntil(async () => (await undelivered()) === 0, 20_000, 'every outbox row to be delivered');
        await nextSweep();
      }
      const after = await counts();
      const during = sweeps().slice(firstSweep);

      // Nothing left that a sweep would end or delete: every table holds live data (and what is inside its grace period).
      const dry = await runCli(['manage', 'cleanup', '--config', join(cw.dir, `gateway-${cw.port}.yaml`), '--dry-run', '--json'], {
        cwd: cw.dir,
        env: { CAUSEWAY_TEST_CLOCK_FILE: clockFile },
      });
      expect(dry.code).toBe(0);
      const due = JSON.parse(dry.stdout) as { deleted: Record<string, number>; sessionsEnded: { inactive: { oauth: number; compat: number }; expired: number }; browserSessionsFinished: number };

      const longest = Math.max(...during.map((s) => s.longestBatchMs));
      const statements = during.reduce((n, s) => n + s.batches, 0);
      const deleted = during.reduce((n, s) => n + Object.values(s.deleted).reduce((a, b) => a + b, 0), 0);
      const lines = [
        `churn on ${db}: ${stats.logins} sign-ins, ${stats.refreshes} refreshes, ${stats.signOuts} sign-outs by ${USERS} users; ` +
          `table sizes after a ${WARM_UP_DAYS}-day warm-up ("before") and after ${DAYS} more simulated days (${churnSeconds.toFixed(1)} s)`,
        `${'table'.padEnd(22)}${'before'.padStart(9)}${'after'.padStart(9)}`,
        ...TABLES.map((t) => `${t.padEnd(22)}${String(before[t]).padStart(9)}${String(after[t]).padStart(9)}`),
        `sweeps during the month: ${during.length}, ${statements} statements, ${deleted} rows deleted; longest statement ${longest} ms`,
        `sign-ins meanwhile (authorize + code exchange, some with the dev form): p50 ${quantile(signInMs, 0.5).toFixed(1)} ms, p99 ${quantile(signInMs, 0.99).toFixed(1)} ms, max ${Math.max(...signInMs).toFixed(1)} ms`,
      ];
      process.stdout.write(`\n${lines.join('\n')}\n`);

      expect(due.sessionsEnded).toEqual({ inactive: { oauth: 0, compat: 0 }, expired: 0 });
      expect(due.browserSessionsFinished).toBe(0);
      for (const [table, n] of Object.entries(due.deleted)) expect([table, n]).toEqual([table, 0]);
      // The month of churn did not grow the tables: the same users, the same steady state. Finished
      // sessions stay through their grace period, and how many fall inside it at the end depends on
      // when the (real-time) sweeps ran against the simulated days: 52-84 OAuth sessions were seen
      // against 44 before. Unbounded growth would be the month's 444 sign-ins; twice the warm-up's
      // figure (plus 10) tells the two apart without depending on the sweeps' timing.
      for (const t of ['oauth2_sessions', 'access_tokens', 'refresh_tokens', 'authorization_grants', 'browser_sessions', 'upstream_sessions', 'outbox', 'audit_log', 'kv_entries'] as const) {
        expect([t, after[t]]).toEqual([t, expect.any(Number)]);
        expect(after[t]).toBeLessThanOrEqual(before[t] * 2 + 10);
      }
      expect(after.users).toBe(USERS);
      expect(during.length).toBeGreaterThan(3);
    },
    Math.max(600_000, USERS * PER_DAY * (WARM_UP_DAYS + DAYS) * 1_500),
  );
});
