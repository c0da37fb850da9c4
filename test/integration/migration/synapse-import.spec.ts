import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Hex } from '../../../src/crypto/token-format.js';
import { runCli } from '../../support/causeway.js';
import { TEST_DBS, type TestDatabase } from '../../support/databases.js';
import { createSynapseDatabase, seedStandardFixture, SynapseWriter, type StandardFixture, type SynapseTestDatabase } from '../../support/synapse-fixture.js';
import { causewayCounts, causewayDatabase, causewayQuery, importCli } from './import-fixture.js';

/**
 * `causeway import synapse` against Synapse's own tables (schema version 94) on PostgreSQL and on
 * SQLite, each into a Causeway database of the same kind: what a run imports and leaves out,
 * `--check` and `--dry-run` changing nothing, a second run adding nothing, an incremental run
 * applying only what changed in Synapse, and a run killed in the middle of a page completed by
 * the next one without duplicates.
 */
const dir = mkdtempSync(join(tmpdir(), 'causeway-synapse-import-'));
const cleanup: { drop(): Promise<void> }[] = [];
afterAll(async () => {
  for (const d of cleanup) await d.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(TEST_DBS)('causeway import synapse (Synapse and Causeway on %s)', (kind) => {
  let synapse: SynapseTestDatabase;
  let fixture: StandardFixture;
  let cw: { db: TestDatabase; configFile: string };

  it('refuses a database whose schema_version is not 94, naming the version found', async () => {
    const old = await createSynapseDatabase(kind, dir, 88);
    cleanup.push(old);
    const target = await causewayDatabase(kind, dir);
    cleanup.push(target.db);
    const res = await importCli(target.configFile, old.url, '--check');
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("Synapse's schema_version is 88; this import reads schema version 94");
  });

  it('--check and --dry-run change neither database; they report what a run would do', async () => {
    synapse = await createSynapseDatabase(kind, dir);
    cleanup.push(synapse);
    fixture = await seedStandardFixture(synapse);
    cw = await causewayDatabase(kind, dir);
    cleanup.push(cw.db);
    expect((await runCli(['migrate', '--config', cw.configFile])).code).toBe(0);
    const synapseBefore = await synapse.counts();
    const causewayBefore = await causewayCounts(cw.db);

    const check = await importCli(cw.configFile, synapse.url, '--check');
    expect(check.stderr).not.toContain('import failed');
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('check: nothing was written');
    expect(check.stdout).toMatch(/password-only user\(s\) \(dave, helperbot\)/);
    expect(check.stdout).toContain('1 guest user(s) are left out');
    expect(check.stdout).toContain('1 appservice user(s) are left out');
    expect(check.stdout).toContain('1 access token(s) have already expired');
    expect(check.stdout).toContain('1 puppet token(s)');

    const dry = await importCli(cw.configFile, synapse.url, '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('dry run: everything was written in a transaction that was rolled back');

    expect(await synapse.counts()).toEqual(synapseBefore);
    expect(await causewayCounts(cw.db)).toEqual(causewayBefore);
    // The dry run printed what the run prints.
    const run = await importCli(cw.configFile, synapse.url);
    expect(run.code).toBe(0);
    expect(tableOf(run.stdout)).toEqual(tableOf(dry.stdout));
    expect(tableOf(run.stdout)).toEqual(tableOf(check.stdout));
  });

  it('imports users, links, emails, display names, devices as compat sessions and tokens as hashes', async () => {
    const users = await causewayQuery<Record<string, unknown>>(cw.db, 'SELECT localpart, display_name, email, can_request_admin, locked_at, deactivated_at, imported_at FROM users ORDER BY localpart');
    expect(users.map((u) => u.localpart)).toEqual(['alice', 'bob', 'carol', 'cdodgson', 'dave', 'erin', 'frank', 'helperbot']);
    const by = Object.fromEntries(users.map((u) => [u.localpart as string, u]));
    expect(by.alice).toMatchObject({ display_name: 'Alice Liddell', email: 'alice@example.org', locked_at: null, deactivated_at: null });
    expect(Boolean(by.bob!.can_request_admin)).toBe(true);
    expect(Boolean(by.alice!.can_request_admin)).toBe(false);
    expect(by.frank!.locked_at).not.toBeNull();
    expect(by.erin!.deactivated_at).not.toBeNull();
    expect(users.every((u) => u.imported_at !== null)).toBe(true);
    const emails = await causewayQuery<{ email: string }>(cw.db, "SELECT e.email FROM user_emails e JOIN users u ON u.id = e.user_id WHERE u.localpart = 'alice' ORDER BY e.email");
    expect(emails.map((e) => e.email)).toEqual(['alice@example.org', 'alice@old.example.org']);

    const links = await causewayQuery<{ provider_id: string; subject: string; localpart: string }>(
      cw.db,
      'SELECT l.provider_id, l.subject, u.localpart FROM upstream_links l JOIN users u ON u.id = l.user_id ORDER BY u.localpart',
    );
    expect(links).toEqual([
      { provider_id: 'keycloak', subject: 'alice', localpart: 'alice' },
      { provider_id: 'keycloak', subject: 'bob', localpart: 'bob' },
      { provider_id: 'campus-cas', subject: 'carol', localpart: 'carol' },
      { provider_id: 'campus', subject: 'cdodgson', localpart: 'cdodgson' },
      { provider_id: 'keycloak', subject: 'erin', localpart: 'erin' },
      { provider_id: 'campus', subject: 'frank', localpart: 'frank' },
    ]);

    const sessions = await causewayQuery<{ localpart: string; device_id: string; human_name: string | null; synapse_admin: unknown; finished_at: unknown }>(
      cw.db,
      'SELECT u.localpart, s.device_id, s.human_name, s.synapse_admin, s.finished_at FROM compat_sessions s JOIN users u ON u.id = s.user_id ORDER BY u.localpart, s.device_id',
    );
    expect(sessions.map((s) => `${s.localpart}/${s.device_id}`)).toEqual([
      'alice/ALICELAPTOP',
      'alice/ALICEPHONE',
      'bob/BOBDESK',
      'carol/CAROLPHONE',
      'carol/CAROLTABLET', // a device without tokens is a session too: sign-outs never sweep it
      'cdodgson/CDPHONE',
      'dave/DAVEPHONE',
      'frank/FRANKPHONE',
    ]);
    expect(sessions.find((s) => s.device_id === 'ALICEPHONE')!.human_name).toBe('Element on iPhone');
    expect(sessions.filter((s) => Boolean(s.synapse_admin)).map((s) => s.localpart)).toEqual(['bob']);

    const tokens = await causewayQuery<{ access_token_hash: string; refresh_token_hash: string | null; expires_at: unknown }>(cw.db, 'SELECT access_token_hash, refresh_token_hash, expires_at FROM compat_tokens');
    const hashes = new Map(tokens.map((t) => [t.access_token_hash, t]));
    const t = fixture.tokens;
    for (const kept of [t.alicePhone, t.aliceLaptop.accessToken, t.aliceLaptopOld.accessToken, t.bobDesk, t.cdodgson, t.carol, t.dave, t.frank]) {
      expect(hashes.has(sha256Hex(kept))).toBe(true);
    }
    for (const left of [t.aliceExpired, t.davePuppet, t.erin, t.guest]) expect(hashes.has(sha256Hex(left))).toBe(false);
    expect(hashes.get(sha256Hex(t.aliceLaptop.accessToken))!.refresh_token_hash).toBe(sha256Hex(t.aliceLaptop.refreshToken));
    // The superseded pair keeps its (still valid) access token, not its refresh token, as Synapse would.
    expect(hashes.get(sha256Hex(t.aliceLaptopOld.accessToken))!.refresh_token_hash).toBeNull();
    expect(Number(hashes.get(sha256Hex(t.cdodgson))!.expires_at)).toBeGreaterThan(Date.now());
    // No token is stored in the clear.
    const raw = JSON.stringify(await causewayQuery(cw.db, 'SELECT * FROM compat_tokens'));
    expect(raw).not.toContain('syt_');
    expect(raw).not.toContain('syr_');
    expect((await causewayCounts(cw.db)).outbox).toBe(0);
  });

  it('a second run adds nothing', async () => {
    const before = await causewayCounts(cw.db);
    const again = await importCli(cw.configFile, synapse.url);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^users\s+10\s+0\s+0\s+8\s+2$/m);
    expect(await causewayCounts(cw.db)).toEqual(before);
  });

  it('an incremental run imports what is new and applies what Synapse changed', async () => {
    const w = new SynapseWriter(synapse);
    await w.user({ localpart: 'newcomer', externalIds: { 'oidc-keycloak': 'newcomer' } });
    await w.device('newcomer', 'NEWPHONE');
    const newcomer = await w.accessToken('newcomer', 'NEWPHONE');
    await w.device('alice', 'ALICETABLET');
    const aliceTablet = await w.accessToken('alice', 'ALICETABLET');
    // dave signed out of DAVEPHONE in Synapse; cdodgson was deactivated.
    await synapse.run('DELETE FROM access_tokens WHERE device_id = $1', ['DAVEPHONE']);
    await synapse.run('DELETE FROM devices WHERE device_id = $1', ['DAVEPHONE']);
    await synapse.run('UPDATE users SET deactivated = 1 WHERE name = $1', ['@cdodgson:example.test']);

    const run = await importCli(cw.configFile, synapse.url);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^users\s+11\s+1\s+1\s+7\s+2$/m);
    const live = await causewayQuery<{ localpart: string; device_id: string }>(
      cw.db,
      'SELECT u.localpart, s.device_id FROM compat_sessions s JOIN users u ON u.id = s.user_id WHERE s.finished_at IS NULL ORDER BY u.localpart, s.device_id',
    );
    expect(live.map((s) => `${s.localpart}/${s.device_id}`)).toEqual([
      'alice/ALICELAPTOP',
      'alice/ALICEPHONE',
      'alice/ALICETABLET',
      'bob/BOBDESK',
      'carol/CAROLPHONE',
      'carol/CAROLTABLET',
      'frank/FRANKPHONE',
      'newcomer/NEWPHONE',
    ]);
    const hashes = new Set((await causewayQuery<{ h: string }>(cw.db, 'SELECT access_token_hash AS h FROM compat_tokens WHERE revoked_at IS NULL')).map((r) => r.h));
    expect(hashes.has(sha256Hex(newcomer))).toBe(true);
    expect(hashes.has(sha256Hex(aliceTablet))).toBe(true);
    expect(hashes.has(sha256Hex(fixture.tokens.dave))).toBe(false);
    expect(hashes.has(sha256Hex(fixture.tokens.cdodgson))).toBe(false);
    const [cd] = await causewayQuery<{ deactivated_at: unknown }>(cw.db, "SELECT deactivated_at FROM users WHERE localpart = 'cdodgson'");
    expect(cd!.deactivated_at).not.toBeNull();
  });

  it('a run killed in the middle of a page is completed by the next one, with nothing duplicated', async () => {
    const fresh = await createSynapseDatabase(kind, dir);
    cleanup.push(fresh);
    const w = new SynapseWriter(fresh);
    for (let i = 0; i < 30; i++) {
      const lp = `user${String(i).padStart(2, '0')}`;
      await w.user({ localpart: lp, externalIds: { 'oidc-keycloak': lp } });
      await w.device(lp, `DEV${i}`);
      await w.accessToken(lp, `DEV${i}`);
    }
    const target = await causewayDatabase(kind, dir);
    cleanup.push(target.db);
    expect((await runCli(['migrate', '--config', target.configFile])).code).toBe(0);

    const killed = await runCli(['import', 'synapse', '--config', target.configFile, '--synapse-database', fresh.url, '--page-size', '4'], { env: { CAUSEWAY_FAULT: 'import-mid-page:3' } });
    expect(killed.code).toBeNull(); // SIGKILL
    const partial = await causewayCounts(target.db);
    expect(partial.users).toBe(8); // two pages committed, the third rolled back

    const resumed = await importCli(target.configFile, fresh.url, '--page-size', '4');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/^users\s+30\s+22\s+0\s+8\s+0$/m);
    const after = await causewayCounts(target.db);
    expect(after).toMatchObject({ users: 30, upstream_links: 30, compat_sessions: 30, compat_tokens: 30, synapse_import_users: 30 });
  });
});

/** The summary table of a run's output (its numbers), without the title line. */
function tableOf(out: string): string[] {
  return out.split('\n').filter((l) => /^(users|external ids|emails|devices|access tokens| {2}with refresh)/.test(l));
}
