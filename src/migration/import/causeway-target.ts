import type BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { faultPoint } from '../../events/fault-points.js';
import { sqliteConnection } from '../../storage/database.service.js';
import type { CausewayImportedToken, CausewaySession, CausewayUser, PageWrites } from './causeway-state.js';

/**
 * Causeway's database as the import sees it: a few reads per page (digests, the accounts it may
 * change, their sessions and imported tokens, existing links) and one transaction per page of
 * multi-row writes. On PostgreSQL two dedicated connections, one reading the next page while the
 * other writes the current one (multi-row `INSERT … SELECT FROM unnest`); on SQLite prepared
 * statements run synchronously on the connection, with a larger page cache for the run.
 *
 * A dry run opens one transaction for the whole run (reads see the run's own writes, so the counts
 * are a real run's) and rolls it back.
 */
export abstract class CausewayTarget {
  abstract digests(synapseUserIds: string[]): Promise<Map<string, string>>;
  abstract users(localparts: string[]): Promise<Map<string, CausewayUser>>;
  /** Sessions of both kinds (device sessions only) and the import's own live tokens of these users. */
  abstract sessions(userIds: string[]): Promise<{ sessions: CausewaySession[]; tokens: CausewayImportedToken[] }>;
  /** Existing links among these (provider, subject) pairs: `provider\0subject` → user id. */
  /** The addresses in user_emails of these users. */
  abstract emails(userIds: string[]): Promise<Map<string, string[]>>;
  abstract links(pairs: { providerId: string; subject: string }[]): Promise<Map<string, string>>;
  abstract apply(w: PageWrites): Promise<void>;
  abstract beginDryRun(): Promise<void>;
  abstract rollbackDryRun(): Promise<void>;
  abstract close(): Promise<void>;

  static async open(ds: DataSource, settings: { url: string; schema?: string }): Promise<CausewayTarget> {
    if (ds.options.type === 'better-sqlite3') return new SqliteTarget(sqliteConnection(ds.manager));
    const connect = async () => {
      const client = new pg.Client({ connectionString: settings.url, application_name: 'causeway-import' });
      await client.connect();
      if (settings.schema) await client.query(`SET search_path TO "${settings.schema.replace(/"/g, '""')}"`);
      return client;
    };
    return new PostgresTarget(await connect(), await connect());
  }
}

type Row = Record<string, unknown>;
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const bool = (v: unknown): boolean => v === true || v === 1;

function toUser(r: Row): CausewayUser {
  return {
    id: String(r.id),
    localpart: String(r.localpart),
    lockedAt: num(r.locked_at),
    deactivatedAt: num(r.deactivated_at),
    canRequestAdmin: bool(r.can_request_admin),
    displayName: (r.display_name as string | null) ?? null,
    email: (r.email as string | null) ?? null,
    importedAt: num(r.imported_at),
  };
}

function toSession(r: Row): CausewaySession {
  return {
    id: String(r.id),
    userId: String(r.user_id),
    kind: r.kind === 'compat' ? 'compat' : 'oauth2',
    deviceId: String(r.device_id),
    imported: r.imported_at !== null && r.imported_at !== undefined,
    finishedAt: num(r.finished_at),
    finishReason: (r.finish_reason as string | null) ?? null,
    humanName: (r.human_name as string | null) ?? null,
    synapseAdmin: bool(r.synapse_admin),
  };
}

function toToken(r: Row): CausewayImportedToken {
  return {
    id: String(r.id),
    sessionId: String(r.session_id),
    accessHash: String(r.access_token_hash),
    refreshHash: (r.refresh_token_hash as string | null) ?? null,
    revokedAt: num(r.revoked_at),
    refreshConsumedAt: num(r.refresh_consumed_at),
  };
}

function groupEmails(rows: Row[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of rows) {
    const id = String(r.user_id);
    let list = out.get(id);
    if (!list) out.set(id, (list = []));
    list.push(String(r.email));
  }
  return out;
}

const USER_COLUMNS = 'id, localpart, locked_at, deactivated_at, can_request_admin, display_name, email, imported_at';
const SESSION_SQL = (list: string) => `SELECT id, user_id, 'compat' AS kind, device_id, imported_at, finished_at, finish_reason, human_name, synapse_admin
  FROM compat_sessions WHERE user_id ${list}
  UNION ALL SELECT id, user_id, 'oauth2', device_id, NULL, finished_at, finish_reason, NULL, NULL
  FROM oauth2_sessions WHERE user_id ${list} AND device_id IS NOT NULL`;
const TOKEN_SQL = (list: string) => `SELECT t.id, t.session_id, t.access_token_hash, t.refresh_token_hash, t.revoked_at, t.refresh_consumed_at
  FROM compat_tokens t JOIN compat_sessions s ON s.id = t.session_id
  WHERE s.user_id ${list} AND s.imported_at IS NOT NULL AND t.imported_at IS NOT NULL AND t.revoked_at IS NULL`;

class PostgresTarget extends CausewayTarget {
  private dryRun = false;
  constructor(
    private readonly reader: pg.Client,
    private readonly writer: pg.Client,
  ) {
    super();
  }

  private reads: Promise<unknown> = Promise.resolve();

  /** Reads see committed state (pages do not depend on each other's writes); one at a time on the reader. */
  private q(text: string, values: unknown[] = []): Promise<Row[]> {
    const run = this.reads.then(async () => (await this.reader.query({ text, values })).rows as Row[]);
    this.reads = run.catch(() => undefined);
    return run;
  }

  private async w(text: string, values: unknown[] = []): Promise<void> {
    await this.writer.query({ text, values });
  }

  async digests(ids: string[]) {
    const rows = await this.q('SELECT synapse_user_id, digest FROM synapse_import_users WHERE synapse_user_id = ANY($1::varchar[])', [ids]);
    return new Map(rows.map((r) => [String(r.synapse_user_id), String(r.digest)]));
  }

  async users(localparts: string[]) {
    if (!localparts.length) return new Map<string, CausewayUser>();
    const rows = await this.q(`SELECT ${USER_COLUMNS} FROM users WHERE localpart = ANY($1::varchar[])`, [localparts]);
    return new Map(rows.map((r) => [String(r.localpart), toUser(r)]));
  }

  async sessions(userIds: string[]) {
    if (!userIds.length) return { sessions: [], tokens: [] };
    const list = '= ANY($1::varchar[])';
    return {
      sessions: (await this.q(SESSION_SQL(list), [userIds])).map(toSession),
      tokens: (await this.q(TOKEN_SQL(list), [userIds])).map(toToken),
    };
  }

  async emails(userIds: string[]) {
    if (!userIds.length) return new Map<string, string[]>();
    return groupEmails(await this.q('SELECT user_id, email FROM user_emails WHERE user_id = ANY($1::varchar[])', [userIds]));
  }

  async links(pairs: { providerId: string; subject: string }[]) {
    if (!pairs.length) return new Map<string, string>();
    const rows = await this.q(
      `SELECT l.provider_id, l.subject, l.user_id FROM upstream_links l
       JOIN unnest($1::varchar[], $2::varchar[]) AS p(provider_id, subject) ON l.provider_id = p.provider_id AND l.subject = p.subject`,
      [pairs.map((p) => p.providerId), pairs.map((p) => p.subject)],
    );
    return new Map(rows.map((r) => [`${String(r.provider_id)}\0${String(r.subject)}`, String(r.user_id)]));
  }

  async apply(w: PageWrites): Promise<void> {
    if (!this.dryRun) await this.w('BEGIN');
    try {
      await this.write(w);
      if (!this.dryRun) await this.w('COMMIT');
    } catch (e) {
      if (!this.dryRun) await this.w('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }

  private async write(w: PageWrites): Promise<void> {
    const col = <T>(rows: T[], f: (r: T) => unknown) => rows.map(f);
    if (w.newUsers.length) {
      const u = w.newUsers;
      await this.w(
        `INSERT INTO users (id, localpart, created_at, locked_at, deactivated_at, can_request_admin, display_name, email, imported_at)
         SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::bigint[], $4::bigint[], $5::bigint[], $6::boolean[], $7::varchar[], $8::varchar[], $9::bigint[])`,
        [
          col(u, (r) => r.id),
          col(u, (r) => r.localpart),
          col(u, (r) => r.createdAt),
          col(u, (r) => r.lockedAt),
          col(u, (r) => r.deactivatedAt),
          col(u, (r) => r.canRequestAdmin),
          col(u, (r) => r.displayName),
          col(u, (r) => r.email),
          col(u, (r) => r.importedAt),
        ],
      );
    }
    faultPoint('import-mid-page');
    if (w.userUpdates.length) {
      const u = w.userUpdates;
      await this.w(
        `UPDATE users SET locked_at = v.locked_at, deactivated_at = v.deactivated_at, can_request_admin = v.can_request_admin,
           display_name = v.display_name, email = v.email, imported_at = v.imported_at
         FROM unnest($1::varchar[], $2::bigint[], $3::bigint[], $4::boolean[], $5::varchar[], $6::varchar[], $7::bigint[])
           AS v(id, locked_at, deactivated_at, can_request_admin, display_name, email, imported_at)
         WHERE users.id = v.id`,
        [col(u, (r) => r.id), col(u, (r) => r.lockedAt), col(u, (r) => r.deactivatedAt), col(u, (r) => r.canRequestAdmin), col(u, (r) => r.displayName), col(u, (r) => r.email), col(u, (r) => r.importedAt)],
      );
    }
    if (w.newLinks.length) {
      const l = w.newLinks;
      await this.w(
        `INSERT INTO upstream_links (id, provider_id, subject, user_id, created_at)
         SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::bigint[]) ON CONFLICT DO NOTHING`,
        [col(l, (r) => r.id), col(l, (r) => r.providerId), col(l, (r) => r.subject), col(l, (r) => r.userId), col(l, (r) => r.createdAt)],
      );
    }
    if (w.newEmails.length) {
      const e = w.newEmails;
      await this.w(
        `INSERT INTO user_emails (id, user_id, email, created_at)
         SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::bigint[]) ON CONFLICT DO NOTHING`,
        [col(e, (r) => r.id), col(e, (r) => r.userId), col(e, (r) => r.email), col(e, (r) => r.createdAt)],
      );
    }
    if (w.newSessions.length) {
      const s = w.newSessions;
      await this.w(
        `INSERT INTO compat_sessions (id, user_id, device_id, human_name, created_at, imported_at, synapse_admin)
         SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::bigint[], $6::bigint[], $7::boolean[])`,
        [col(s, (r) => r.id), col(s, (r) => r.userId), col(s, (r) => r.deviceId), col(s, (r) => r.humanName), col(s, (r) => r.createdAt), col(s, (r) => r.importedAt), col(s, (r) => r.synapseAdmin)],
      );
    }
    if (w.sessionUpdates.length) {
      const s = w.sessionUpdates;
      await this.w(
        `UPDATE compat_sessions SET human_name = v.human_name, synapse_admin = v.synapse_admin
         FROM unnest($1::varchar[], $2::varchar[], $3::boolean[]) AS v(id, human_name, synapse_admin) WHERE compat_sessions.id = v.id`,
        [col(s, (r) => r.id), col(s, (r) => r.humanName), col(s, (r) => r.synapseAdmin)],
      );
    }
    if (w.endSessions.length) {
      const now = Date.now();
      const e = w.endSessions;
      await this.w(
        `UPDATE compat_sessions SET finished_at = $3, finish_reason = v.reason
         FROM unnest($1::varchar[], $2::varchar[]) AS v(id, reason) WHERE compat_sessions.id = v.id AND finished_at IS NULL`,
        [col(e, (r) => r.id), col(e, (r) => r.reason), now],
      );
      await this.w('UPDATE compat_tokens SET revoked_at = $2 WHERE session_id = ANY($1::varchar[]) AND revoked_at IS NULL', [col(e, (r) => r.id), now]);
    }
    if (w.newTokens.length) {
      const t = w.newTokens;
      await this.w(
        `INSERT INTO compat_tokens (id, session_id, access_token_hash, refresh_token_hash, created_at, expires_at, imported_at)
         SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::bigint[], $6::bigint[], $7::bigint[]) ON CONFLICT DO NOTHING`,
        [col(t, (r) => r.id), col(t, (r) => r.sessionId), col(t, (r) => r.accessHash), col(t, (r) => r.refreshHash), col(t, (r) => r.createdAt), col(t, (r) => r.expiresAt), col(t, (r) => r.importedAt)],
      );
    }
    if (w.revokeTokens.length) await this.w('UPDATE compat_tokens SET revoked_at = $2 WHERE id = ANY($1::varchar[]) AND revoked_at IS NULL', [w.revokeTokens, Date.now()]);
    if (w.consumeRefresh.length) {
      await this.w('UPDATE compat_tokens SET refresh_consumed_at = $2 WHERE id = ANY($1::varchar[]) AND refresh_consumed_at IS NULL', [w.consumeRefresh, Date.now()]);
    }
    if (w.digests.length) {
      const d = w.digests;
      await this.w(
        `INSERT INTO synapse_import_users (synapse_user_id, user_id, digest, updated_at)
         SELECT v.id, v.user_id, v.digest, $4 FROM unnest($1::varchar[], $2::varchar[], $3::varchar[]) AS v(id, user_id, digest)
         ON CONFLICT (synapse_user_id) DO UPDATE SET user_id = EXCLUDED.user_id, digest = EXCLUDED.digest, updated_at = EXCLUDED.updated_at`,
        [col(d, (r) => r.synapseUserId), col(d, (r) => r.userId), col(d, (r) => r.digest), Date.now()],
      );
    }
  }

  async beginDryRun() {
    await this.w('BEGIN');
    this.dryRun = true;
  }

  async rollbackDryRun() {
    if (this.dryRun) await this.w('ROLLBACK');
    this.dryRun = false;
  }

  async close() {
    await this.reader.end();
    await this.writer.end();
  }
}

type Statement = BetterSqlite3.Statement<unknown[], Row>;

class SqliteTarget extends CausewayTarget {
  private dryRun = false;
  private readonly st = new Map<string, Statement>();
  constructor(private readonly conn: BetterSqlite3.Database) {
    super();
    // Index pages of the tables written stay in memory during the run (64 MiB instead of 2).
    conn.pragma('cache_size = -65536');
  }

  private prep(sql: string): Statement {
    let s = this.st.get(sql);
    if (!s) this.st.set(sql, (s = this.conn.prepare(sql) as Statement));
    return s;
  }

  private all(sql: string, ...params: unknown[]): Row[] {
    return this.prep(sql).all(...params);
  }

  private run(sql: string, ...params: unknown[]): void {
    this.prep(sql).run(...params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p)));
  }

  async digests(ids: string[]) {
    const rows = this.all('SELECT synapse_user_id, digest FROM synapse_import_users WHERE synapse_user_id IN (SELECT value FROM json_each(?))', JSON.stringify(ids));
    return new Map(rows.map((r) => [String(r.synapse_user_id), String(r.digest)]));
  }

  async users(localparts: string[]) {
    if (!localparts.length) return new Map<string, CausewayUser>();
    const rows = this.all(`SELECT ${USER_COLUMNS} FROM users WHERE localpart IN (SELECT value FROM json_each(?))`, JSON.stringify(localparts));
    return new Map(rows.map((r) => [String(r.localpart), toUser(r)]));
  }

  async sessions(userIds: string[]) {
    if (!userIds.length) return { sessions: [], tokens: [] };
    const ids = JSON.stringify(userIds);
    const list = 'IN (SELECT value FROM json_each(?))';
    return {
      sessions: this.all(SESSION_SQL(list), ids, ids).map(toSession),
      tokens: this.all(TOKEN_SQL(list), ids).map(toToken),
    };
  }

  async emails(userIds: string[]) {
    if (!userIds.length) return new Map<string, string[]>();
    return groupEmails(this.all('SELECT user_id, email FROM user_emails WHERE user_id IN (SELECT value FROM json_each(?))', JSON.stringify(userIds)));
  }

  async links(pairs: { providerId: string; subject: string }[]) {
    if (!pairs.length) return new Map<string, string>();
    const rows = this.all(
      `SELECT l.provider_id, l.subject, l.user_id FROM json_each(?) p
       JOIN upstream_links l ON l.provider_id = json_extract(p.value, '$[0]') AND l.subject = json_extract(p.value, '$[1]')`,
      JSON.stringify(pairs.map((p) => [p.providerId, p.subject])),
    );
    return new Map(rows.map((r) => [`${String(r.provider_id)}\0${String(r.subject)}`, String(r.user_id)]));
  }

  async apply(w: PageWrites): Promise<void> {
    if (this.dryRun) this.write(w);
    else this.conn.transaction(() => this.write(w)).immediate();
  }

  private write(w: PageWrites): void {
    const now = Date.now();
    for (const u of w.newUsers) {
      this.run(
        'INSERT INTO users (id, localpart, created_at, locked_at, deactivated_at, can_request_admin, display_name, email, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        u.id,
        u.localpart,
        u.createdAt,
        u.lockedAt,
        u.deactivatedAt,
        u.canRequestAdmin,
        u.displayName,
        u.email,
        u.importedAt,
      );
    }
    faultPoint('import-mid-page');
    for (const u of w.userUpdates) {
      this.run(
        'UPDATE users SET locked_at = ?, deactivated_at = ?, can_request_admin = ?, display_name = ?, email = ?, imported_at = ? WHERE id = ?',
        u.lockedAt,
        u.deactivatedAt,
        u.canRequestAdmin,
        u.displayName,
        u.email,
        u.importedAt,
        u.id,
      );
    }
    for (const l of w.newLinks) {
      this.run('INSERT OR IGNORE INTO upstream_links (id, provider_id, subject, user_id, created_at) VALUES (?, ?, ?, ?, ?)', l.id, l.providerId, l.subject, l.userId, l.createdAt);
    }
    for (const e of w.newEmails) this.run('INSERT OR IGNORE INTO user_emails (id, user_id, email, created_at) VALUES (?, ?, ?, ?)', e.id, e.userId, e.email, e.createdAt);
    for (const s of w.newSessions) {
      this.run(
        'INSERT INTO compat_sessions (id, user_id, device_id, human_name, created_at, imported_at, synapse_admin) VALUES (?, ?, ?, ?, ?, ?, ?)',
        s.id,
        s.userId,
        s.deviceId,
        s.humanName,
        s.createdAt,
        s.importedAt,
        s.synapseAdmin,
      );
    }
    for (const s of w.sessionUpdates) this.run('UPDATE compat_sessions SET human_name = ?, synapse_admin = ? WHERE id = ?', s.humanName, s.synapseAdmin, s.id);
    for (const e of w.endSessions) {
      this.run('UPDATE compat_sessions SET finished_at = ?, finish_reason = ? WHERE id = ? AND finished_at IS NULL', now, e.reason, e.id);
      this.run('UPDATE compat_tokens SET revoked_at = ? WHERE session_id = ? AND revoked_at IS NULL', now, e.id);
    }
    for (const t of w.newTokens) {
      this.run(
        'INSERT OR IGNORE INTO compat_tokens (id, session_id, access_token_hash, refresh_token_hash, created_at, expires_at, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        t.id,
        t.sessionId,
        t.accessHash,
        t.refreshHash,
        t.createdAt,
        t.expiresAt,
        t.importedAt,
      );
    }
    for (const id of w.revokeTokens) this.run('UPDATE compat_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', now, id);
    for (const id of w.consumeRefresh) this.run('UPDATE compat_tokens SET refresh_consumed_at = ? WHERE id = ? AND refresh_consumed_at IS NULL', now, id);
    for (const d of w.digests) {
      this.run(
        `INSERT INTO synapse_import_users (synapse_user_id, user_id, digest, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (synapse_user_id) DO UPDATE SET user_id = excluded.user_id, digest = excluded.digest, updated_at = excluded.updated_at`,
        d.synapseUserId,
        d.userId,
        d.digest,
        now,
      );
    }
  }

  async beginDryRun() {
    this.conn.exec('BEGIN IMMEDIATE');
    this.dryRun = true;
  }

  async rollbackDryRun() {
    if (this.dryRun && this.conn.inTransaction) this.conn.exec('ROLLBACK');
    this.dryRun = false;
  }

  async close() {}
}
