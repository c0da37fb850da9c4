import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { isUniqueViolation } from '../../../src/identity/unique-violation.js';
import { openDataSource, runMigrations } from '../../../src/storage/data-source.js';
import { Database } from '../../../src/storage/database.service.js';
import { AuditLogRepository, type AuditRecord } from '../../../src/storage/repositories/audit-log.repository.js';
import { ClientRepository } from '../../../src/storage/repositories/client.repository.js';
import { BrowserSessionRepository } from '../../../src/storage/repositories/browser-session.repository.js';
import { CompatSessionRepository } from '../../../src/storage/repositories/compat-session.repository.js';
import { OutboxRepository } from '../../../src/storage/repositories/outbox.repository.js';
import { OutboxDeliveryRepository } from '../../../src/storage/repositories/outbox/outbox-delivery.repository.js';
import { SessionEndRepository } from '../../../src/storage/repositories/session-end/session-end.repository.js';
import { DeviceSessionRepository } from '../../../src/storage/repositories/device-session.repository.js';
import { SessionRepository } from '../../../src/storage/repositories/session.repository.js';
import { TermsRepository } from '../../../src/storage/repositories/terms.repository.js';
import { UpstreamLinkRepository } from '../../../src/storage/repositories/upstream-link.repository.js';
import { UserRepository } from '../../../src/storage/repositories/user.repository.js';
import { OAuth2TokenRepository, type OAuth2SessionRecord, type RefreshTokenRecord } from '../../../src/storage/repositories/oauth2-token.repository.js';
import { AuthorizationGrantRepository } from '../../../src/storage/repositories/authorization-grant.repository.js';
import { ConsentRepository } from '../../../src/storage/repositories/consent.repository.js';
import { DeviceCodeRepository, type DeviceCodeRecord } from '../../../src/storage/repositories/device-code.repository.js';
import { ulid } from '../../../src/storage/ulid.js';
import { freshDatabase, TEST_DBS, type TestDatabase } from '../../support/databases.js';

/**
 * Repository conformance, as Dex's storage conformance: the same tests against SQLite and
 * PostgreSQL, through the repositories only (rows the repositories do not write yet are seeded in
 * plain SQL). What one database answers, the other must answer the same way.
 */
describe.each(TEST_DBS)('repository conformance on %s', (kind) => {
  const dir = mkdtempSync(join(tmpdir(), 'causeway-repos-'));
  let tdb: TestDatabase;
  let ds: DataSource;
  let db: Database;
  let users: UserRepository;
  let links: UpstreamLinkRepository;
  let devices: DeviceSessionRepository;
  let sessions: SessionRepository;
  let audit: AuditLogRepository;
  let terms: TermsRepository;
  let clients: ClientRepository;
  let browsers: BrowserSessionRepository;
  let compats: CompatSessionRepository;
  let tokens: OAuth2TokenRepository;
  let grants: AuthorizationGrantRepository;
  let consents: ConsentRepository;
  let deviceCodes: DeviceCodeRepository;

  const sql = (text: string, params: unknown[] = []) => ds.query(kind === 'sqlite' ? text.replace(/\$\d+/g, '?') : text, params);
  const T = 1_796_000_000_000;

  beforeAll(async () => {
    tdb = await freshDatabase(kind, dir);
    ds = await openDataSource({ url: tdb.url, schema: tdb.schema });
    await runMigrations(ds);
    db = new Database(ds, tdb.url);
    users = new UserRepository(db);
    links = new UpstreamLinkRepository(db);
    devices = new DeviceSessionRepository(db);
    sessions = new SessionRepository(db);
    audit = new AuditLogRepository(db, () => ({ ip: '192.0.2.7', userAgent: 'jest', requestId: 'req-1' }));
    terms = new TermsRepository(db);
    clients = new ClientRepository(db);
    browsers = new BrowserSessionRepository(db);
    compats = new CompatSessionRepository(db);
    tokens = new OAuth2TokenRepository(db);
    grants = new AuthorizationGrantRepository();
    consents = new ConsentRepository(db);
    deviceCodes = new DeviceCodeRepository(db);
  });
  afterAll(async () => {
    await ds?.destroy();
    await tdb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const newUser = (localpart: string, extra: { displayName?: string; email?: string; canRequestAdmin?: boolean } = {}) => db.transaction((tx) => users.insert(tx, { localpart, ...extra }, T));

  describe('users', () => {
    it('inserts, finds by id and by localpart, and reads back every field with its type', async () => {
      const u = await newUser('conf-alice', { displayName: 'Alice', email: 'Alice@Example.com', canRequestAdmin: true });
      const expected = { id: u.id, localpart: 'conf-alice', createdAt: T, lockedAt: null, deactivatedAt: null, displayName: 'Alice', email: 'Alice@Example.com', canRequestAdmin: true, idpAdmin: false };
      expect(u).toEqual(expected);
      expect(await users.findById(u.id)).toEqual(expected);
      expect(await users.findByLocalpart('conf-alice')).toEqual(expected);
      expect(await users.idOf('conf-alice')).toBe(u.id);
      expect(await users.findById('01NOSUCHUSER0000000000000A')).toBeUndefined();
      expect(await users.adminRights(u.id)).toEqual({ canRequestAdmin: true, idpAdmin: false });
    });

    it('refuses a taken localpart with an error isUniqueViolation recognises', async () => {
      await newUser('conf-taken');
      const err = await newUser('conf-taken').catch((e: unknown) => e);
      expect(isUniqueViolation(err)).toBe(true);
    });

    it('updates flags, and a conditional update changes nothing once the condition no longer holds', async () => {
      const u = await newUser('conf-flags');
      expect(await db.transaction((tx) => users.update(tx, u.id, { lockedAt: T + 1 }, 'unlocked'))).toBe(true);
      expect(await db.transaction((tx) => users.update(tx, u.id, { lockedAt: T + 2 }, 'unlocked'))).toBe(false);
      expect(await db.transaction((tx) => users.update(tx, u.id, { deactivatedAt: T + 3 }, 'active'))).toBe(true);
      expect(await db.transaction((tx) => users.update(tx, u.id, { deactivatedAt: T + 4 }, 'active'))).toBe(false);
      await db.transaction((tx) => users.update(tx, u.id, { idpAdmin: true, displayName: null, email: 'x@example.org' }));
      expect(await db.transaction((tx) => users.update(tx, u.id, {}))).toBe(false);
      expect(await users.findById(u.id)).toMatchObject({ lockedAt: T + 1, deactivatedAt: T + 3, idpAdmin: true, displayName: null, email: 'x@example.org' });
    });

    it('keeps each email once, lower-cased, oldest first', async () => {
      const u = await newUser('conf-mail');
      await db.transaction(async (tx) => {
        await users.addEmail(tx, u.id, 'B@Example.com', T);
        await users.addEmail(tx, u.id, 'b@example.com', T + 1);
        await users.addEmail(tx, u.id, 'c@example.com', T + 2);
      });
      expect((await users.emails(u.id)).map((e) => [e.email, e.userId, e.createdAt])).toEqual([
        ['b@example.com', u.id, T],
        ['c@example.com', u.id, T + 2],
      ]);
    });

    it('lists with filters and cursor pages in id order', async () => {
      const ids = await users.insertMany(['conf-list-a', 'conf-list_b', 'conf-list-c'].map((localpart, i) => ({ localpart, createdAt: T + 10 + i })));
      const first = await users.list({ localpartPrefix: 'conf-list' }, { limit: 2 });
      expect(first.data.map((u) => u.id)).toEqual(ids.slice(0, 2));
      const second = await users.list({ localpartPrefix: 'conf-list' }, { limit: 2, after: first.nextAfter! });
      expect(second).toEqual({ data: [expect.objectContaining({ id: ids[2], localpart: 'conf-list-c' })], nextAfter: null });
      // `_` is literal in a prefix, not a wildcard.
      expect((await users.list({ localpartPrefix: 'conf-list_' }, { limit: 10 })).data.map((u) => u.localpart)).toEqual(['conf-list_b']);
      await db.transaction((tx) => users.update(tx, ids[0]!, { lockedAt: T }));
      expect((await users.list({ localpartPrefix: 'conf-list', status: 'locked' }, { limit: 10 })).data.map((u) => u.id)).toEqual([ids[0]]);
      expect((await users.list({ localpartPrefix: 'conf-list', admin: true, adminLocalparts: ['conf-list-c'] }, { limit: 10 })).data.map((u) => u.id)).toEqual([ids[2]]);
    });

    it('records which terms version a user accepted', async () => {
      const u = await newUser('conf-terms');
      expect(await terms.acceptedVersion(u.id)).toBeNull();
      await terms.accept(u.id, 'v2', T);
      expect(await terms.acceptedVersion(u.id)).toBe('v2');
    });
  });

  describe('upstream links', () => {
    it('inserts, finds, lists per user, re-keys and removes; a provider + subject is unique', async () => {
      const u = await newUser('conf-links');
      const a = await db.transaction((tx) => links.insert(tx, { providerId: 'corp', subject: 'alice', userId: u.id }, T));
      const b = await db.transaction((tx) => links.insert(tx, { providerId: 'other', subject: 'alice', userId: u.id }, T + 1));
      expect(await links.find('corp', 'alice')).toEqual({ id: a.id, providerId: 'corp', subject: 'alice', userId: u.id, createdAt: T });
      expect(await links.findById(b.id)).toEqual(b);
      expect((await links.forUser(u.id)).map((l) => l.id)).toEqual([a.id, b.id]);
      expect(isUniqueViolation(await db.transaction((tx) => links.insert(tx, { providerId: 'corp', subject: 'alice', userId: u.id })).catch((e: unknown) => e))).toBe(true);

      await db.transaction((tx) => links.setSubject(tx, a.id, 'alice-v2'));
      expect(await links.find('corp', 'alice')).toBeUndefined();
      expect((await links.find('corp', 'alice-v2'))?.id).toBe(a.id);

      expect(await db.transaction((tx) => links.removeForProvider(tx, u.id, 'other'))).toEqual([b]);
      await db.transaction((tx) => links.remove(tx, a.id));
      expect(await links.forUser(u.id)).toEqual([]);
    });
  });

  describe('device sessions', () => {
    let userId: string;
    const oauth = (id: string, createdAt: number, o: { grant?: string; finished?: number; device?: string; browser?: string | null } = {}) =>
      sql('INSERT INTO oauth2_sessions (id, user_id, client_id, device_id, scope, grant_type, browser_session_id, created_at, last_active_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)', [
        id,
        userId,
        'client-a',
        o.device ?? `DEV-${id.slice(-3)}`,
        'openid',
        o.grant ?? 'authorization_code',
        o.browser ?? null,
        createdAt,
        createdAt + 5,
        o.finished ?? null,
      ]);
    const compat = (id: string, createdAt: number, o: { finished?: number; device?: string } = {}) =>
      sql('INSERT INTO compat_sessions (id, user_id, device_id, human_name, redirect_host, created_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
        id,
        userId,
        o.device ?? `CDEV-${id.slice(-3)}`,
        'Element',
        'app.example',
        createdAt,
        o.finished ?? null,
      ]);

    beforeAll(async () => {
      userId = (await newUser('conf-devices')).id;
      await sql('INSERT INTO browser_sessions (id, user_id, provider_id, created_at, authenticated_at) VALUES ($1, $2, $3, $4, $5)', ['BDEV00000000000000000000B1', userId, 'corp', T, T]);
      await oauth('ODEV0000000000000000000001', T + 1, { browser: 'BDEV00000000000000000000B1', device: 'SHARED' });
      await compat('CDEV0000000000000000000002', T + 3, { device: 'SHARED' });
      await oauth('ODEV0000000000000000000003', T + 2, { grant: 'personal' });
      await oauth('ODEV0000000000000000000004', T + 4, { finished: T + 5 });
      await compat('CDEV0000000000000000000005', T + 3);
    });

    it('lists the live sessions of both kinds, newest first (OAuth first within a millisecond)', async () => {
      const rows = await devices.liveOf(userId);
      expect(rows.map((r) => [r.kind, r.id])).toEqual([
        ['compat', 'CDEV0000000000000000000002'],
        ['compat', 'CDEV0000000000000000000005'],
        ['oauth', 'ODEV0000000000000000000003'],
        ['oauth', 'ODEV0000000000000000000001'],
      ]);
      expect(rows[3]).toEqual({
        id: 'ODEV0000000000000000000001',
        kind: 'oauth',
        clientId: 'client-a',
        deviceId: 'SHARED',
        humanName: null,
        redirectHost: null,
        createdAt: T + 1,
        lastActiveAt: T + 6,
        browserSessionId: 'BDEV00000000000000000000B1',
      });
      expect(rows[0]).toMatchObject({ kind: 'compat', clientId: null, humanName: 'Element', redirectHost: 'app.example', lastActiveAt: null, browserSessionId: null });
    });

    it('tells whether a session is live and whose; counts live sessions', async () => {
      expect(await devices.isLiveOf('oauth', 'ODEV0000000000000000000001', userId)).toBe(true);
      expect(await devices.isLiveOf('compat', 'ODEV0000000000000000000001', userId)).toBe(false);
      expect(await devices.isLiveOf('oauth', 'ODEV0000000000000000000004', userId)).toBe(false);
      expect(await devices.isLiveOf('oauth', 'ODEV0000000000000000000001', '01SOMEONEELSE0000000000000')).toBe(false);
      expect(await devices.countLive(userId)).toBe(4);
    });

    it('renames a device in every live session holding it', async () => {
      expect(await db.transaction((tx) => devices.rename(tx, userId, 'SHARED', 'Laptop'))).toBe(2);
      expect(await db.transaction((tx) => devices.rename(tx, userId, 'NOPE', 'x'))).toBe(0);
      expect((await devices.liveOf(userId)).filter((r) => r.deviceId === 'SHARED').map((r) => r.humanName)).toEqual(['Laptop', 'Laptop']);
    });

    it('gives live ids oldest first, OAuth ones narrowed by grant type', async () => {
      expect(await db.transaction((tx) => devices.liveIdsOldestFirst(tx, userId, 'oauth', ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code']))).toEqual(['ODEV0000000000000000000001']);
      expect(await db.transaction((tx) => devices.liveIdsOldestFirst(tx, userId, 'oauth', ['authorization_code', 'personal']))).toEqual(['ODEV0000000000000000000001', 'ODEV0000000000000000000003']);
      expect(await db.transaction((tx) => devices.liveIdsOldestFirst(tx, userId, 'compat', []))).toEqual(['CDEV0000000000000000000002', 'CDEV0000000000000000000005']);
    });

    it('gives the ids of every live session of a user, and of those born from given browser sessions', async () => {
      const all = await db.transaction((tx) => devices.liveIdsOf(tx, userId));
      expect({ oauth: [...all.oauth].sort(), compat: [...all.compat].sort() }).toEqual({
        oauth: ['ODEV0000000000000000000001', 'ODEV0000000000000000000003'],
        compat: ['CDEV0000000000000000000002', 'CDEV0000000000000000000005'],
      });
      expect(await db.transaction((tx) => devices.liveBornFrom(tx, ['BDEV00000000000000000000B1']))).toEqual({ oauth: ['ODEV0000000000000000000001'], compat: [] });
      expect(await db.transaction((tx) => devices.liveBornFrom(tx, ['BNOSUCH0000000000000000000']))).toEqual({ oauth: [], compat: [] });
    });

    it('lists sessions of every kind for the admin API, one order over all of them', async () => {
      const page = await sessions.list({ userId, browserTtlMs: 60_000, now: T + 10_000 }, { limit: 3 });
      expect(page.data.map((s) => [s.kind, s.id])).toEqual([
        ['browser', 'BDEV00000000000000000000B1'],
        ['compat', 'CDEV0000000000000000000002'],
        ['compat', 'CDEV0000000000000000000005'],
      ]);
      const rest = await sessions.list({ userId, browserTtlMs: 60_000, now: T + 10_000 }, { limit: 10, after: page.nextAfter! });
      expect(rest.data.map((s) => [s.kind, s.id])).toEqual([
        ['oauth2', 'ODEV0000000000000000000001'],
        ['personal', 'ODEV0000000000000000000003'],
        ['oauth2', 'ODEV0000000000000000000004'],
      ]);
      expect(rest.nextAfter).toBeNull();
      expect((await sessions.list({ userId, state: 'finished', browserTtlMs: 60_000, now: T + 10_000 }, { limit: 10 })).data.map((s) => s.id)).toEqual(['ODEV0000000000000000000004']);
      // Past its lifetime a browser session counts as finished (expired) without a write.
      expect(await sessions.get('BDEV00000000000000000000B1', 60_000, T + 120_000)).toMatchObject({ kind: 'browser', finishedAt: T + 60_000, finishReason: 'expired' });
    });
  });

  describe('browser and upstream sessions', () => {
    const browser = (id: string, userId: string, createdAt: number, upstreamSessionId: string | null = null) => ({
      id,
      userId,
      providerId: 'corp',
      upstreamSessionId,
      createdAt,
      authenticatedAt: createdAt,
      lastActiveAt: createdAt,
      finishedAt: null,
      userAgent: 'Firefox',
      lastActiveIp: '192.0.2.1',
    });

    it('writes a browser session with the upstream session it was born from, and reads both back', async () => {
      const u = await newUser('conf-browser');
      await browsers.insert(browser('BRWS000000000000000000000A', u.id, T, 'UPST000000000000000000000A'), {
        id: 'UPST000000000000000000000A',
        providerId: 'corp',
        subject: 'alice',
        userId: u.id,
        upstreamSid: 'sid-1',
        details: { name_id: 'x' },
        createdAt: T,
      });
      await browsers.insert(browser('BRWS000000000000000000000B', u.id, T + 1));
      const { lastActiveIp: _ip, ...a } = browser('BRWS000000000000000000000A', u.id, T, 'UPST000000000000000000000A');
      expect(await browsers.find('BRWS000000000000000000000A')).toEqual(a);
      expect(await browsers.upstreamSession('UPST000000000000000000000A')).toEqual({
        id: 'UPST000000000000000000000A',
        providerId: 'corp',
        subject: 'alice',
        userId: u.id,
        upstreamSid: 'sid-1',
        details: { name_id: 'x' },
        browserSessionId: 'BRWS000000000000000000000A',
        createdAt: T,
        endedAt: null,
      });
      expect((await browsers.unfinishedOf(u.id)).map((b) => b.id)).toEqual(['BRWS000000000000000000000B', 'BRWS000000000000000000000A']);
      await browsers.touch('BRWS000000000000000000000A', T + 50);
      expect((await db.transaction((tx) => browsers.findLocked(tx, 'BRWS000000000000000000000A')))?.lastActiveAt).toBe(T + 50);
    });

    it('ends upstream sessions matched by session id and subject, and finishes the browser sessions born from them', async () => {
      const u = await newUser('conf-upstream-end');
      await browsers.insert(browser('BRUP000000000000000000000A', u.id, T, 'UPUP000000000000000000000A'), {
        id: 'UPUP000000000000000000000A',
        providerId: 'corp',
        subject: 'bob',
        userId: u.id,
        upstreamSid: 'sid-b',
        details: null,
        createdAt: T,
      });
      await browsers.insert(browser('BRUP000000000000000000000B', u.id, T + 1, 'UPUP000000000000000000000B'), {
        id: 'UPUP000000000000000000000B',
        providerId: 'corp',
        subject: 'bob',
        userId: u.id,
        upstreamSid: 'sid-c',
        details: null,
        createdAt: T + 1,
      });
      await browsers.insert(browser('BRUP000000000000000000000C', u.id, T + 2));
      const bySid = await db.transaction((tx) => browsers.liveUpstreamSessions(tx, 'corp', { upstreamSid: 'sid-b' }));
      expect(bySid.map((x) => x.id)).toEqual(['UPUP000000000000000000000A']);
      // Both given: both must match.
      expect(await db.transaction((tx) => browsers.liveUpstreamSessions(tx, 'corp', { upstreamSid: 'sid-b', subject: 'carol' }))).toEqual([]);
      const bySubject = await db.transaction((tx) => browsers.liveUpstreamSessions(tx, 'corp', { subject: 'bob' }));
      expect(bySubject.map((x) => x.id).sort()).toEqual(['UPUP000000000000000000000A', 'UPUP000000000000000000000B']);
      expect(await db.transaction((tx) => browsers.liveUpstreamSessions(tx, 'other', { subject: 'bob' }))).toEqual([]);
      expect((await db.transaction((tx) => browsers.idsFromUpstream(tx, ['UPUP000000000000000000000A', 'UPUP000000000000000000000B']))).sort()).toEqual(['BRUP000000000000000000000A', 'BRUP000000000000000000000B']);
      await db.transaction((tx) => browsers.endUpstreamSessions(tx, ['UPUP000000000000000000000A'], T + 5));
      expect(await browsers.upstreamSession('UPUP000000000000000000000A')).toMatchObject({ endedAt: T + 5 });
      expect((await db.transaction((tx) => browsers.liveUpstreamSessions(tx, 'corp', { subject: 'bob' }))).map((x) => x.id)).toEqual(['UPUP000000000000000000000B']);
      // Only unfinished ones count, once.
      expect(await db.transaction((tx) => browsers.finishMany(tx, ['BRUP000000000000000000000A', 'BRUP000000000000000000000B'], T + 6))).toBe(2);
      expect(await db.transaction((tx) => browsers.finishMany(tx, ['BRUP000000000000000000000A'], T + 7))).toBe(0);
      expect((await browsers.find('BRUP000000000000000000000A'))?.finishedAt).toBe(T + 6);
      await db.transaction((tx) => browsers.finishAllOf(tx, u.id, T + 8));
      expect(await browsers.unfinishedOf(u.id)).toEqual([]);
      expect((await browsers.find('BRUP000000000000000000000C'))?.finishedAt).toBe(T + 8);
    });

    it('finishes expired sessions in batches as of when they expired, and counts them first', async () => {
      const u = await newUser('conf-browser-expiry');
      for (let i = 0; i < 3; i++) await browsers.insert(browser(`BREX00000000000000000000${i}0`, u.id, T - 10_000 + i));
      expect(await browsers.countUnfinishedBefore('created_at', T - 9_000)).toBeGreaterThanOrEqual(3);
      const first = await browsers.finishBatch('created_at', 1_000, T - 9_000, 2);
      expect(first.n).toBe(2);
      const second = await browsers.finishBatch('created_at', 1_000, T - 9_000, 2);
      expect(second.n).toBeGreaterThanOrEqual(1);
      expect((await browsers.find('BREX0000000000000000000000'))?.finishedAt).toBe(T - 9_000);
      expect(await browsers.unfinishedOf(u.id)).toEqual([]);
    });
  });

  describe('compat sessions and tokens', () => {
    it('writes a session and its tokens, finds them by hash, consumes a refresh token once, records activity', async () => {
      const u = await newUser('conf-compat');
      await db.transaction(async (tx) => {
        await compats.insertSession(tx, {
          id: 'CMPS000000000000000000000A',
          userId: u.id,
          deviceId: 'CDEV',
          humanName: 'Element',
          browserSessionId: null,
          redirectHost: 'app.example',
          createdAt: T,
          lastActiveAt: T,
          lastActiveIp: null,
        });
        await compats.insertToken(tx, {
          id: 'CMPT000000000000000000000A',
          sessionId: 'CMPS000000000000000000000A',
          accessTokenHash: 'a'.repeat(64),
          refreshTokenHash: 'r'.repeat(64),
          createdAt: T,
          expiresAt: T + 300_000,
        });
        await compats.insertToken(tx, { id: 'CMPT000000000000000000000B', sessionId: 'CMPS000000000000000000000A', accessTokenHash: 'b'.repeat(64), refreshTokenHash: null, createdAt: T, expiresAt: null });
      });
      expect(await compats.tokenByAccessHash('a'.repeat(64))).toEqual({
        id: 'CMPT000000000000000000000A',
        sessionId: 'CMPS000000000000000000000A',
        accessTokenHash: 'a'.repeat(64),
        refreshTokenHash: 'r'.repeat(64),
        createdAt: T,
        expiresAt: T + 300_000,
        revokedAt: null,
        refreshConsumedAt: null,
      });
      expect((await db.transaction((tx) => compats.tokenByRefreshHash(tx, 'r'.repeat(64))))?.id).toBe('CMPT000000000000000000000A');
      const consumed = await Promise.all([1, 2].map(() => db.transaction((tx) => compats.consumeRefresh(tx, 'CMPT000000000000000000000A', 'CMPT000000000000000000000B', T + 10, T + 10))));
      expect(consumed.sort()).toEqual([false, true]);
      expect(await compats.tokenByAccessHash('a'.repeat(64))).toMatchObject({ refreshConsumedAt: T + 10, expiresAt: T + 10 });
      await db.transaction((tx) => compats.touch(tx, 'CMPS000000000000000000000A', T + 20, '198.51.100.1'));
      expect(await compats.liveSession('CMPS000000000000000000000A')).toMatchObject({ userId: u.id, deviceId: 'CDEV', lastActiveAt: T + 20, lastActiveIp: '198.51.100.1', finishedAt: null });
      expect(await db.transaction((tx) => devices.liveOnDevice(tx, u.id, 'CDEV'))).toEqual({ oauth: [], compat: ['CMPS000000000000000000000A'] });
      await sql('UPDATE compat_sessions SET finished_at = $1 WHERE id = $2', [T + 30, 'CMPS000000000000000000000A']);
      expect(await compats.liveSession('CMPS000000000000000000000A')).toBeUndefined();
    });
  });

  describe('OAuth 2.0 sessions and tokens', () => {
    it('writes a session with an access and a refresh token, reads every field back, and rotates once', async () => {
      const u = await newUser('conf-oauth');
      const session: OAuth2SessionRecord = {
        id: 'OSES000000000000000000000A',
        userId: u.id,
        clientId: 'client-o',
        deviceId: 'ODEVICE',
        scope: 'openid urn:matrix:client:api:*',
        grantType: 'authorization_code',
        browserSessionId: null,
        createdAt: T,
        lastActiveAt: T,
        expiresAt: null,
        finishedAt: null,
        finishReason: null,
        humanName: null,
        lastActiveIp: '192.0.2.9',
      };
      const refresh: RefreshTokenRecord = {
        id: 'OREF000000000000000000000A',
        tokenHash: 'd'.repeat(64),
        sessionId: session.id,
        accessTokenId: 'OACC000000000000000000000A',
        createdAt: T,
        expiresAt: null,
        consumedAt: null,
        nextRefreshTokenId: null,
        revokedAt: null,
      };
      await db.transaction(async (tx) => {
        await tokens.insertSession(tx, session);
        await tokens.insertAccessToken(tx, { id: 'OACC000000000000000000000A', tokenHash: 'c'.repeat(64), sessionId: session.id, createdAt: T, expiresAt: T + 300_000, revokedAt: null, firstUsedAt: null });
        await tokens.insertRefreshToken(tx, refresh);
      });
      expect(await db.transaction((tx) => tokens.findSession(tx, session.id))).toEqual(session);
      expect(await db.transaction((tx) => tokens.refreshTokenByHash(tx, 'd'.repeat(64)))).toEqual(refresh);
      expect(await db.transaction((tx) => tokens.refreshTokenByHash(tx, 'e'.repeat(64)))).toBeUndefined();
      // Two refreshes with the same token: one consumes it.
      const consumed = await Promise.all([1, 2].map(() => db.transaction((tx) => tokens.consumeRefreshToken(tx, 'OREF000000000000000000000A', T + 10))));
      expect(consumed.sort()).toEqual([false, true]);
      // The access token is revoked once: its hash comes back the first time only (for the caches).
      expect(await db.transaction((tx) => tokens.revokeAccessToken(tx, 'OACC000000000000000000000A', T + 10))).toBe('c'.repeat(64));
      expect(await db.transaction((tx) => tokens.revokeAccessToken(tx, 'OACC000000000000000000000A', T + 11))).toBeUndefined();
      await db.transaction(async (tx) => {
        await tokens.insertAccessToken(tx, { id: 'OACC000000000000000000000B', tokenHash: 'f'.repeat(64), sessionId: session.id, createdAt: T + 10, expiresAt: T + 300_010, revokedAt: null, firstUsedAt: null });
        await tokens.insertRefreshToken(tx, {
          id: 'OREF000000000000000000000B',
          tokenHash: 'g'.repeat(64),
          sessionId: session.id,
          accessTokenId: 'OACC000000000000000000000B',
          createdAt: T + 10,
          expiresAt: null,
          consumedAt: null,
          nextRefreshTokenId: null,
          revokedAt: null,
        });
        await tokens.linkSuccessor(tx, 'OREF000000000000000000000A', 'OREF000000000000000000000B');
        await tokens.revokeRefreshToken(tx, 'OREF000000000000000000000B', T + 12);
        await tokens.touchSession(tx, session.id, { at: T + 10, ip: '198.51.100.2' });
      });
      expect(await db.transaction((tx) => tokens.refreshToken(tx, 'OREF000000000000000000000A'))).toMatchObject({ consumedAt: T + 10, nextRefreshTokenId: 'OREF000000000000000000000B' });
      expect(await db.transaction((tx) => tokens.refreshToken(tx, 'OREF000000000000000000000B'))).toMatchObject({ revokedAt: T + 12 });
      expect(await db.transaction((tx) => tokens.accessToken(tx, 'OACC000000000000000000000A'))).toMatchObject({ revokedAt: T + 10, firstUsedAt: null });
      // A touch without an expiry leaves it; with one, sets it.
      expect(await db.transaction((tx) => tokens.findSession(tx, session.id))).toMatchObject({ lastActiveAt: T + 10, lastActiveIp: '198.51.100.2', expiresAt: null });
      await db.transaction((tx) => tokens.touchSession(tx, session.id, { at: T + 11, expiresAt: T + 900 }));
      expect(await db.transaction((tx) => tokens.findSession(tx, session.id))).toMatchObject({ lastActiveAt: T + 11, lastActiveIp: '198.51.100.2', expiresAt: T + 900 });
      await tokens.markFirstUsed('OACC000000000000000000000B', T + 20);
      await tokens.markFirstUsed('OACC000000000000000000000B', T + 30);
      expect(await db.transaction((tx) => tokens.accessToken(tx, 'OACC000000000000000000000B'))).toMatchObject({ firstUsedAt: T + 20 });
      expect(await db.transaction((tx) => tokens.liveIdsOfClient(tx, 'client-o'))).toEqual([session.id]);
      expect(await db.transaction((tx) => tokens.liveScopesOf(tx, u.id))).toEqual([{ id: session.id, scope: 'openid urn:matrix:client:api:*' }]);
      await sql('UPDATE oauth2_sessions SET finished_at = $1 WHERE id = $2', [T + 40, session.id]);
      expect(await db.transaction((tx) => tokens.liveIdsOfClient(tx, 'client-o'))).toEqual([]);
      expect(await db.transaction((tx) => tokens.liveScopesOf(tx, u.id))).toEqual([]);
    });
  });

  describe('authorization codes and consents', () => {
    it('writes a code, finds it by hash with every field, claims it once, and records its session', async () => {
      const u = await newUser('conf-grant');
      const grant = {
        id: 'GRNT000000000000000000000A',
        codeHash: 'h'.repeat(64),
        clientId: 'client-g',
        redirectUri: 'https://app.example/cb',
        scope: 'openid',
        codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        nonce: 'n-1',
        userId: u.id,
        browserSessionId: null,
        authTime: T - 5,
        createdAt: T,
        expiresAt: T + 600_000,
        usedAt: null,
        sessionId: null,
      };
      await db.transaction((tx) => grants.insert(tx, grant));
      expect(await db.transaction((tx) => grants.byCodeHash(tx, 'h'.repeat(64)))).toEqual(grant);
      expect(await db.transaction((tx) => grants.byCodeHash(tx, 'i'.repeat(64)))).toBeUndefined();
      const claimed = await Promise.all([1, 2].map(() => db.transaction((tx) => grants.claim(tx, grant.id, T + 1))));
      expect(claimed.sort()).toEqual([false, true]);
      await db.transaction((tx) => grants.attachSession(tx, grant.id, 'OSES00000000000000000000ZZ'));
      expect(await db.transaction((tx) => grants.byCodeHash(tx, 'h'.repeat(64)))).toMatchObject({ usedAt: T + 1, sessionId: 'OSES00000000000000000000ZZ' });
    });

    it('keeps one consent per user and client, with its scopes as a list', async () => {
      const u = await newUser('conf-consent');
      expect(await consents.find(u.id, 'client-c')).toBeUndefined();
      await db.transaction((tx) => consents.insert(tx, { id: 'CNST000000000000000000000A', userId: u.id, clientId: 'client-c', scopes: ['openid'], createdAt: T, updatedAt: T }));
      expect(await consents.find(u.id, 'client-c')).toEqual({ id: 'CNST000000000000000000000A', userId: u.id, clientId: 'client-c', scopes: ['openid'], createdAt: T, updatedAt: T });
      await db.transaction(async (tx) => {
        await consents.setScopes(tx, 'CNST000000000000000000000A', ['openid', 'urn:matrix:client:api:*'], T + 1);
        expect((await consents.find(u.id, 'client-c', tx))?.scopes).toEqual(['openid', 'urn:matrix:client:api:*']);
      });
      expect(await consents.find(u.id, 'client-c')).toMatchObject({ scopes: ['openid', 'urn:matrix:client:api:*'], createdAt: T, updatedAt: T + 1 });
      expect(await consents.find(u.id, 'client-other')).toBeUndefined();
    });
  });

  describe('device codes', () => {
    const code = (id: string, userCode: string, o: Partial<DeviceCodeRecord> = {}): DeviceCodeRecord => ({
      id,
      deviceCodeHash: `${userCode}`.padEnd(64, '0'),
      userCode,
      clientId: 'client-d',
      scope: 'urn:matrix:client:api:*',
      state: 'pending',
      userId: null,
      browserSessionId: null,
      sessionId: null,
      createdAt: T,
      expiresAt: T + 600_000,
      lastPolledAt: null,
      interval: 5,
      ...o,
    });

    it('finds a code by user code and device code hash; only pending unexpired ones for the verification page', async () => {
      await db.transaction(async (tx) => {
        await deviceCodes.insert(tx, code('DVCD000000000000000000000A', 'ABCDEFGH'));
        await deviceCodes.insert(tx, code('DVCD000000000000000000000B', 'BCDEFGHJ', { expiresAt: T - 1 }));
      });
      expect(await db.transaction((tx) => deviceCodes.byUserCode(tx, 'ABCDEFGH'))).toEqual(code('DVCD000000000000000000000A', 'ABCDEFGH'));
      expect(await db.transaction((tx) => deviceCodes.byDeviceCodeHash(tx, 'ABCDEFGH'.padEnd(64, '0')))).toMatchObject({ id: 'DVCD000000000000000000000A' });
      expect(await deviceCodes.pendingByUserCode('ABCDEFGH', T)).toMatchObject({ id: 'DVCD000000000000000000000A' });
      expect(await deviceCodes.pendingByUserCode('BCDEFGHJ', T)).toBeUndefined();
      await db.transaction((tx) => deviceCodes.delete(tx, 'DVCD000000000000000000000B'));
      expect(await db.transaction((tx) => deviceCodes.byUserCode(tx, 'BCDEFGHJ'))).toBeUndefined();
    });

    it('moves between states once under concurrency, records polls and the session it became', async () => {
      const u = await newUser('conf-device-code');
      await db.transaction((tx) => deviceCodes.insert(tx, code('DVCD000000000000000000000C', 'CDEFGHJK')));
      await db.transaction((tx) => deviceCodes.recordPoll(tx, 'DVCD000000000000000000000C', T + 1));
      await db.transaction((tx) => deviceCodes.recordPoll(tx, 'DVCD000000000000000000000C', T + 2, 10));
      expect(await db.transaction((tx) => deviceCodes.byUserCode(tx, 'CDEFGHJK'))).toMatchObject({ lastPolledAt: T + 2, interval: 10 });
      const approved = await Promise.all([1, 2].map(() => db.transaction((tx) => deviceCodes.transition(tx, 'DVCD000000000000000000000C', 'pending', 'approved', { userId: u.id, browserSessionId: null }))));
      expect(approved.sort()).toEqual([false, true]);
      expect(await deviceCodes.pendingByUserCode('CDEFGHJK', T)).toBeUndefined();
      expect(await db.transaction((tx) => deviceCodes.transition(tx, 'DVCD000000000000000000000C', 'pending', 'denied'))).toBe(false);
      expect(await db.transaction((tx) => deviceCodes.transition(tx, 'DVCD000000000000000000000C', 'approved', 'exchanged', { lastPolledAt: T + 3 }))).toBe(true);
      await db.transaction((tx) => deviceCodes.attachSession(tx, 'DVCD000000000000000000000C', 'OSES00000000000000000000YY'));
      expect(await db.transaction((tx) => deviceCodes.byUserCode(tx, 'CDEFGHJK'))).toMatchObject({ state: 'exchanged', userId: u.id, lastPolledAt: T + 3, sessionId: 'OSES00000000000000000000YY' });
    });
  });

  describe('outbox', () => {
    it('appends rows in the caller transaction (gone with a rollback), numbered in commit order, payload intact', async () => {
      const outbox = new OutboxRepository();
      await db.transaction((tx) => outbox.append(tx, { userKey: 'conf-ob', kind: 'devices.sync', payload: {}, createdAt: T }));
      await expect(
        db.transaction(async (tx) => {
          await outbox.append(tx, { userKey: 'conf-ob', kind: 'user.provision', payload: { locked: true }, createdAt: T + 1 });
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      await Promise.all(['a', 'b', 'c'].map((n, i) => db.transaction((tx) => outbox.append(tx, { userKey: 'conf-ob', kind: 'device.rename', payload: { deviceId: n, displayName: `Phone ${i}` }, createdAt: T + 2 + i }))));
      const rows = (await sql("SELECT id, kind, payload, published_at, delivered_at FROM outbox WHERE user_key = 'conf-ob' ORDER BY id")) as {
        id: unknown;
        kind: string;
        payload: string;
        published_at: unknown;
        delivered_at: unknown;
      }[];
      expect(rows.map((r) => r.kind)).toEqual(['devices.sync', 'device.rename', 'device.rename', 'device.rename']);
      // The three concurrent appends commit in any order on PostgreSQL.
      expect(rows.map((r) => JSON.parse(r.payload).deviceId as string | undefined).sort()).toEqual(['a', 'b', 'c', undefined]);
      expect(JSON.parse(rows[0]!.payload)).toEqual({});
      expect(rows.every((r) => r.published_at === null && r.delivered_at === null)).toBe(true);
      const ids = rows.map((r) => Number(r.id));
      expect([...ids].sort((x, y) => x - y)).toEqual(ids);
    });
  });

  describe('outbox delivery', () => {
    let rows: OutboxDeliveryRepository;
    const append = (userKey: string, kind: string, payload: Record<string, unknown>, createdAt: number) => db.transaction((tx) => new OutboxRepository().append(tx, { userKey, kind, payload, createdAt }));
    const idsOf = async (userKey: string) => ((await sql('SELECT id FROM outbox WHERE user_key = $1 ORDER BY id', [userKey])) as { id: unknown }[]).map((r) => Number(r.id));
    const mine = (prefix: string) => (r: { userKey: string }) => r.userKey.startsWith(prefix);
    beforeAll(() => {
      rows = new OutboxDeliveryRepository(db);
    });

    it('reads pending rows of a user and of several users in id order, and the users waiting longest first', async () => {
      await append('conf-dl-a', 'devices.sync', {}, T);
      await append('conf-dl-b', 'device.rename', { deviceId: 'D1', displayName: 'Phone' }, T + 1);
      await append('conf-dl-a', 'user.provision', { locked: true }, T + 2);
      const [a1, a2] = await idsOf('conf-dl-a');
      const [b1] = await idsOf('conf-dl-b');
      const first = { id: a1, userKey: 'conf-dl-a', kind: 'devices.sync', payload: {}, createdAt: T, attempts: 0 };
      const second = { id: a2, userKey: 'conf-dl-a', kind: 'user.provision', payload: { locked: true }, createdAt: T + 2, attempts: 0 };
      const other = { id: b1, userKey: 'conf-dl-b', kind: 'device.rename', payload: { deviceId: 'D1', displayName: 'Phone' }, createdAt: T + 1, attempts: 0 };
      expect(await rows.pendingOf('conf-dl-a', 10)).toEqual([first, second]);
      expect(await rows.pendingOf('conf-dl-a', 1)).toEqual([first]);
      expect(await rows.pendingOfUsers(['conf-dl-a', 'conf-dl-b', 'conf-dl-none'], 10)).toEqual([first, other, second]);
      expect(await rows.pendingOfUsers(['conf-dl-b', 'conf-dl-a'], 2)).toEqual([first, other]);
      expect((await rows.pendingUsers(1000)).filter((u) => u.startsWith('conf-dl-'))).toEqual(['conf-dl-a', 'conf-dl-b']);
    });

    it('marks rows published, failed, delivered once and dead, tells which are still open, and revives dead letters', async () => {
      for (let i = 0; i < 3; i++) await append('conf-dl-m', 'devices.sync', {}, T + i);
      const [m1, m2, m3] = (await idsOf('conf-dl-m')) as [number, number, number];
      expect((await rows.unpublished(1000)).filter(mine('conf-dl-m')).map((r) => r.id)).toEqual([m1, m2, m3]);
      await rows.markPublished([m1, m2], T + 10);
      expect((await rows.unpublished(1000)).filter(mine('conf-dl-m')).map((r) => r.id)).toEqual([m3]);
      expect((await rows.publishedPending(0, 1000)).filter(mine('conf-dl-m')).map((r) => r.id)).toEqual([m1, m2]);
      expect((await rows.publishedPending(m1, 1000)).filter(mine('conf-dl-m')).map((r) => r.id)).toEqual([m2]);
      expect((await rows.publishedPending(0, 1000, T + 10)).filter(mine('conf-dl-m'))).toEqual([]);
      expect((await rows.publishedPending(0, 1000, T + 11)).filter(mine('conf-dl-m')).map((r) => r.id)).toEqual([m1, m2]);

      await rows.countFailure([m1, m2], 'HTTP 502');
      expect((await rows.pendingOf('conf-dl-m', 10)).map((r) => r.attempts)).toEqual([1, 1, 0]);
      await rows.markDelivered([m1], T + 20);
      await rows.markDelivered([m1], T + 21);
      const [delivered] = (await sql('SELECT delivered_at FROM outbox WHERE id = $1', [m1])) as { delivered_at: unknown }[];
      expect(Number(delivered!.delivered_at)).toBe(T + 20);
      await rows.markDead([m1, m2], 'gave up', T + 30);
      expect(await rows.openOf([m1, m2, m3, 2_000_000_000])).toEqual(new Set([m3]));
      expect((await rows.dead(1000, 0)).filter(mine('conf-dl-m'))).toEqual([{ id: m2, userKey: 'conf-dl-m', kind: 'devices.sync', payload: {}, createdAt: T + 1, attempts: 2, deadAt: T + 30, lastError: 'gave up' }]);
      expect((await rows.dead(1000, m2)).filter(mine('conf-dl-m'))).toEqual([]);

      const [counts] = (await sql(
        'SELECT (SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL) AS p, (SELECT min(created_at) FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL) AS o, (SELECT count(*) FROM outbox WHERE dead_at IS NOT NULL) AS d',
      )) as { p: unknown; o: unknown; d: unknown }[];
      expect(await rows.stats()).toEqual({ pending: Number(counts!.p), oldestCreatedAt: Number(counts!.o), dead: Number(counts!.d) });

      expect(await rows.revive([m1, m2])).toEqual([{ id: m2, userKey: 'conf-dl-m', kind: 'devices.sync', payload: {}, createdAt: T + 1, attempts: 2 }]);
      expect(await rows.revive([m1, m2])).toEqual([]);
      expect((await rows.pendingOf('conf-dl-m', 10)).map((r) => [r.id, r.attempts])).toEqual([
        [m2, 0],
        [m3, 0],
      ]);
      expect((await rows.unpublished(1000)).filter(mine('conf-dl-m')).map((r) => r.id)).toEqual([m2, m3]);
      expect((await rows.dead(1000, 0)).filter(mine('conf-dl-m'))).toEqual([]);
    });

    it('reads the devices of live sessions of both kinds, the mark of an imported account, and devices ended since a moment', async () => {
      const u = await newUser('conf-dl-dev');
      const oauth = (id: string, device: string | null, finished: number | null) =>
        sql('INSERT INTO oauth2_sessions (id, user_id, client_id, device_id, scope, grant_type, created_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
          id,
          u.id,
          'client-a',
          device,
          'openid',
          'authorization_code',
          T,
          finished,
        ]);
      const compat = (id: string, device: string, finished: number | null) =>
        sql('INSERT INTO compat_sessions (id, user_id, device_id, created_at, finished_at) VALUES ($1, $2, $3, $4, $5)', [id, u.id, device, T, finished]);
      await oauth('ODLD0000000000000000000001', 'D1', null);
      await oauth('ODLD0000000000000000000002', 'D2', T + 5);
      await oauth('ODLD0000000000000000000003', null, null);
      await compat('CDLD0000000000000000000001', 'C1', null);
      await compat('CDLD0000000000000000000002', 'C2', T + 7);
      await compat('CDLD0000000000000000000003', 'D1', null);
      const byDevice = (a: { deviceId: string | null }, b: { deviceId: string | null }) => String(a.deviceId).localeCompare(String(b.deviceId));
      expect((await rows.liveDevicesOf(['conf-dl-dev', 'conf-dl-nobody'])).sort(byDevice)).toEqual([
        { localpart: 'conf-dl-dev', deviceId: 'C1' },
        { localpart: 'conf-dl-dev', deviceId: 'D1' },
        { localpart: 'conf-dl-dev', deviceId: 'D1' },
      ]);
      await sql('UPDATE users SET imported_at = $1 WHERE id = $2', [T, u.id]);
      expect((await rows.liveDevicesOf(['conf-dl-dev'])).filter((r) => r.deviceId === null)).toEqual([{ localpart: 'conf-dl-dev', deviceId: null }]);
      expect(await rows.endedDevicesOf('conf-dl-dev', T + 6)).toEqual(['C2']);
      expect((await rows.endedDevicesOf('conf-dl-dev', T)).sort()).toEqual(['C2', 'D2']);
      expect(await rows.userIdOf('conf-dl-dev')).toBe(u.id);
      expect(await rows.userIdOf('conf-dl-nobody')).toBeUndefined();
    });
  });

  describe('ending sessions', () => {
    let ends: SessionEndRepository;
    let userId: string;
    const h = (c: string) => c.repeat(64);
    const oauth = (id: string, o: { grant?: string; lastActive?: number | null; expires?: number | null } = {}) =>
      sql('INSERT INTO oauth2_sessions (id, user_id, client_id, device_id, scope, grant_type, created_at, last_active_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [
        id,
        userId,
        'client-a',
        `DEV-${id.slice(-2)}`,
        'openid',
        o.grant ?? 'authorization_code',
        T,
        o.lastActive ?? null,
        o.expires ?? null,
      ]);
    const tokens = async (sessionId: string, access: string, refresh: string) => {
      await sql('INSERT INTO access_tokens (id, token_hash, session_id, created_at) VALUES ($1, $2, $3, $4)', [`A${sessionId.slice(1)}`, access, sessionId, T]);
      await sql('INSERT INTO refresh_tokens (id, token_hash, session_id, access_token_id, created_at) VALUES ($1, $2, $3, $4, $5)', [`R${sessionId.slice(1)}`, refresh, sessionId, `A${sessionId.slice(1)}`, T]);
    };
    const compat = async (id: string, access: string, refresh: string | null, lastActive: number | null = null) => {
      await sql('INSERT INTO compat_sessions (id, user_id, device_id, created_at, last_active_at) VALUES ($1, $2, $3, $4, $5)', [id, userId, `CDEV-${id.slice(-2)}`, T, lastActive]);
      await sql('INSERT INTO compat_tokens (id, session_id, access_token_hash, refresh_token_hash, created_at) VALUES ($1, $2, $3, $4, $5)', [`T${id.slice(1)}`, id, access, refresh, T]);
    };
    const finished = async (table: string, id: string) =>
      ((await sql(`SELECT finished_at, finish_reason FROM ${table} WHERE id = $1`, [id])) as { finished_at: unknown; finish_reason: string | null }[]).map((r) => [
        r.finished_at === null ? null : Number(r.finished_at),
        r.finish_reason,
      ])[0];
    const outboxRows = async () =>
      ((await sql("SELECT kind, payload, created_at FROM outbox WHERE user_key = 'conf-end'")) as { kind: string; payload: string; created_at: unknown }[]).map((r) => [
        r.kind,
        JSON.parse(r.payload),
        Number(r.created_at),
      ]);

    beforeAll(async () => {
      ends = new SessionEndRepository(db);
      userId = (await newUser('conf-end')).id;
    });

    it('ends sessions of both kinds inside the caller transaction: finished, tokens revoked, one devices.sync row per user, an audit row per session; once', async () => {
      await oauth('OEND0000000000000000000001');
      await tokens('OEND0000000000000000000001', h('1'), h('2'));
      await compat('CEND0000000000000000000001', h('3'), h('4'));
      await expect(
        db.transaction(async (tx) => {
          await ends.end(tx, { oauth: ['OEND0000000000000000000001'], compat: [] }, 'logout', 'user:x', T + 100);
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect(await finished('oauth2_sessions', 'OEND0000000000000000000001')).toEqual([null, null]);

      const result = await db.transaction((tx) => ends.end(tx, { oauth: ['OEND0000000000000000000001', 'OEND_NO_SUCH_SESSION_00001'], compat: ['CEND0000000000000000000001'] }, 'logout', 'user:x', T + 100));
      expect(result.ended).toBe(2);
      expect([...result.hashes].sort()).toEqual([h('1'), h('2'), h('3'), h('4')]);
      expect(await finished('oauth2_sessions', 'OEND0000000000000000000001')).toEqual([T + 100, 'logout']);
      expect(await finished('compat_sessions', 'CEND0000000000000000000001')).toEqual([T + 100, 'logout']);
      const revoked = (await sql(
        'SELECT revoked_at FROM access_tokens WHERE token_hash = $1 UNION ALL SELECT revoked_at FROM refresh_tokens WHERE token_hash = $2 UNION ALL SELECT revoked_at FROM compat_tokens WHERE access_token_hash = $3',
        [h('1'), h('2'), h('3')],
      )) as { revoked_at: unknown }[];
      expect(revoked.map((r) => Number(r.revoked_at))).toEqual([T + 100, T + 100, T + 100]);
      expect(await outboxRows()).toEqual([['devices.sync', {}, T + 100]]);
      const audit = (await sql('SELECT actor, action, target, user_id, details, created_at FROM audit_log WHERE user_id = $1 ORDER BY action', [userId])) as {
        actor: string;
        action: string;
        target: string;
        user_id: string;
        details: string;
        created_at: unknown;
      }[];
      expect(audit.map((a) => ({ ...a, details: JSON.parse(a.details), created_at: Number(a.created_at) }))).toEqual([
        { actor: 'user:x', action: 'compat_session.end', target: 'CEND0000000000000000000001', user_id: userId, details: { reason: 'logout', user_id: userId, device_id: 'CDEV-01' }, created_at: T + 100 },
        {
          actor: 'user:x',
          action: 'oauth2_session.end',
          target: 'OEND0000000000000000000001',
          user_id: userId,
          details: { reason: 'logout', client_id: 'client-a', user_id: userId, device_id: 'DEV-01' },
          created_at: T + 100,
        },
      ]);

      expect(await db.transaction((tx) => ends.end(tx, { oauth: ['OEND0000000000000000000001'], compat: ['CEND0000000000000000000001'] }, 'admin', 'system', T + 200))).toEqual({ ended: 0, hashes: [] });
      expect(await outboxRows()).toHaveLength(1);
    });

    it('ends the sessions of live tokens by their hashes, committing by itself; revoked tokens end nothing', async () => {
      await oauth('OEND0000000000000000000002');
      await tokens('OEND0000000000000000000002', h('5'), h('6'));
      await compat('CEND0000000000000000000002', h('7'), null);
      const none = { access: [], refresh: [], compatAccess: [], compatRefresh: [] };
      const byRefresh = await ends.endByTokens({ ...none, refresh: [h('6')], compatAccess: [h('7')] }, 'revoked', 'system', T + 300);
      expect(byRefresh.ended).toBe(2);
      expect([...byRefresh.hashes].sort()).toEqual([h('5'), h('6'), h('7')]);
      expect(await finished('oauth2_sessions', 'OEND0000000000000000000002')).toEqual([T + 300, 'revoked']);
      expect(await finished('compat_sessions', 'CEND0000000000000000000002')).toEqual([T + 300, 'revoked']);
      expect(await ends.endByTokens({ ...none, access: [h('5'), h('9')] }, 'revoked', 'system', T + 400)).toEqual({ ended: 0, hashes: [] });
      expect(await outboxRows()).toEqual([
        ['devices.sync', {}, T + 100],
        ['devices.sync', {}, T + 300],
      ]);
    });

    it('finds live sessions past a cutoff (expired; inactive, personal-token sessions excepted), counts them, oldest first', async () => {
      const old = T - 1_000_000;
      await oauth('OEND0000000000000000000011', { expires: old + 2 });
      await oauth('OEND0000000000000000000012', { expires: old + 1, lastActive: old + 1 });
      await oauth('OEND0000000000000000000013', { grant: 'personal', lastActive: old });
      await oauth('OEND0000000000000000000014', { lastActive: old + 3 });
      await compat('CEND0000000000000000000011', h('e'), null, old);
      const cutoff = T - 500_000;
      expect(await ends.countDead('oauth-expired', cutoff)).toBe(2);
      expect(await db.transaction((tx) => ends.deadIds(tx, 'oauth-expired', cutoff, 10))).toEqual(['OEND0000000000000000000012', 'OEND0000000000000000000011']);
      expect(await db.transaction((tx) => ends.deadIds(tx, 'oauth-expired', cutoff, 1))).toEqual(['OEND0000000000000000000012']);
      expect(await ends.countDead('oauth-inactive', cutoff)).toBe(2);
      expect(await db.transaction((tx) => ends.deadIds(tx, 'oauth-inactive', cutoff, 10))).toEqual(['OEND0000000000000000000012', 'OEND0000000000000000000014']);
      expect(await db.transaction((tx) => ends.deadIds(tx, 'compat-inactive', cutoff, 10))).toEqual(['CEND0000000000000000000011']);
      await db.transaction((tx) => ends.end(tx, { oauth: ['OEND0000000000000000000012'], compat: ['CEND0000000000000000000011'] }, 'expired', 'system', T));
      expect(await ends.countDead('oauth-expired', cutoff)).toBe(1);
      expect(await ends.countDead('compat-inactive', cutoff)).toBe(0);
    });
  });

  describe('clients', () => {
    it('syncs the static clients (update, insert, delete the undeclared) and keeps dynamic ones', async () => {
      await clients.syncStatic(
        [
          { clientId: 'conf-static-a', metadata: { client_name: 'A' }, secretHash: null },
          { clientId: 'conf-static-b', metadata: {}, secretHash: 's'.repeat(64) },
        ],
        T,
      );
      await db.transaction((tx) => clients.insertDynamic(tx, { clientId: 'conf-dyn-1', metadata: { redirect_uris: ['https://app/cb'] }, metadataHash: 'h'.repeat(64), secretHash: null, createdAt: T + 1 }));
      await clients.syncStatic([{ clientId: 'conf-static-a', metadata: { client_name: 'A2' }, secretHash: 'x'.repeat(64) }], T + 2);
      expect(await clients.find('conf-static-a')).toEqual({ clientId: 'conf-static-a', origin: 'static', metadata: { client_name: 'A2' }, metadataHash: null, secretHash: 'x'.repeat(64), createdAt: T, lastUsedAt: null });
      expect(await clients.find('conf-static-b')).toBeUndefined();
      expect((await clients.list({ after: 'conf-', limit: 10 })).map((c) => c.clientId)).toEqual(['conf-dyn-1', 'conf-static-a']);
      expect((await clients.list({ after: 'conf-dyn-1', limit: 1 })).map((c) => c.clientId)).toEqual(['conf-static-a']);
    });

    it('finds dynamic clients by id and public ones by metadata hash; deletes only dynamic ones', async () => {
      expect(await clients.findDynamic('conf-static-a')).toBeUndefined();
      expect(await clients.findDynamic('conf-dyn-1')).toMatchObject({ origin: 'dynamic', metadata: { redirect_uris: ['https://app/cb'] }, createdAt: T + 1 });
      expect((await db.transaction((tx) => clients.findPublicByHash(tx, 'h'.repeat(64))))?.clientId).toBe('conf-dyn-1');
      expect(await clients.deleteDynamic('conf-static-a')).toBe(false);
      expect(await clients.deleteDynamic('conf-dyn-1')).toBe(true);
      expect(await clients.deleteDynamic('conf-dyn-1')).toBe(false);
      expect(await clients.find('conf-static-a')).toBeDefined();
    });
  });

  describe('audit log', () => {
    it('records inside the caller transaction (gone with a rollback), adds the request origin, and tells listeners only after the commit', async () => {
      const seen: AuditRecord[] = [];
      audit.onRecord((r) => seen.push(r));
      await expect(
        db.transaction(async (tx) => {
          await audit.record(tx, { actor: 'system', action: 'conf.rolled_back', at: T });
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect(seen).toEqual([]);
      const rec = await audit.recordNow({ actor: 'cli:root', action: 'conf.kept', target: 'x'.repeat(300), userId: 'U1', details: { n: 1 }, at: T });
      expect(seen).toEqual([rec]);
      expect(rec.target).toHaveLength(255);
      const page = await audit.query({ action: 'conf.kept' }, { limit: 10 });
      expect(page.data).toEqual([{ id: rec.id, actor: 'cli:root', action: 'conf.kept', target: 'x'.repeat(255), userId: 'U1', details: { n: 1, ip: '192.0.2.7', user_agent: 'jest', request_id: 'req-1' }, createdAt: T }]);
      expect((await audit.query({ action: 'conf.rolled_back' }, { limit: 10 })).data).toEqual([]);
    });

    it('filters by user, actor and time, pages in both directions', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await audit.recordNow({ actor: 'admin-token', action: 'conf.page', userId: 'U2', at: T + 100 + i })).id);
      const asc = await audit.query({ userId: 'U2', actor: 'admin-token', since: T + 100, until: T + 103 }, { limit: 2 });
      expect(asc.data.map((r) => r.id)).toEqual(ids.slice(0, 2));
      expect((await audit.query({ userId: 'U2' }, { limit: 2, after: asc.nextAfter! })).data.map((r) => r.id)).toEqual([ids[2]]);
      expect((await audit.query({ userId: 'U2', since: T + 101 }, { limit: 10 }, 'desc')).data.map((r) => r.id)).toEqual([ids[2], ids[1]]);
      // ULIDs of the row's time: ids sort by creation.
      expect(ids[0]!.slice(0, 10)).toBe(ulid(T + 100).slice(0, 10));
    });
  });
});
