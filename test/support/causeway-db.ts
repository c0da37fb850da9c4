import type { DataSource } from 'typeorm';
import { In, IsNull } from 'typeorm';
import { openDataSource, runMigrations } from '../../src/storage/data-source.js';
import { OAuth2SessionEntity, OutboxEntity, UserEntity, AccessTokenEntity } from '../../src/storage/entities/index.js';
import { ulid } from '../../src/storage/ulid.js';
import type { TestDatabase } from './databases.js';

/**
 * Direct access to a Causeway database from a test: create users and sessions, and end sessions the
 * way SessionTerminator does (finish + outbox row in one transaction) without going through a login.
 * For fault tests that need thousands of sign-outs quickly, and to read what the outbox recorded.
 */
export class CausewayDb {
  private constructor(readonly ds: DataSource) {}

  static async open(db: TestDatabase, opts: { migrate?: boolean } = {}): Promise<CausewayDb> {
    const ds = await openDataSource({ url: db.url, schema: db.schema, pool_size: 4 });
    if (opts.migrate) await runMigrations(ds);
    return new CausewayDb(ds);
  }

  private get pg(): boolean {
    return this.ds.options.type === 'postgres';
  }

  async createUser(localpart: string): Promise<string> {
    const id = ulid();
    await this.ds.manager.insert(UserEntity, { id, localpart, created_at: Date.now(), locked_at: null, deactivated_at: null, can_request_admin: false, display_name: null, email: null });
    return id;
  }

  async createSession(userId: string, deviceId: string, clientId = 'test-client'): Promise<string> {
    const id = ulid();
    await this.ds.manager.insert(OAuth2SessionEntity, {
      id,
      user_id: userId,
      client_id: clientId,
      device_id: deviceId,
      scope: `openid urn:matrix:client:api:* urn:matrix:client:device:${deviceId}`,
      grant_type: 'authorization_code',
      browser_session_id: null,
      created_at: Date.now(),
      last_active_at: null,
      finished_at: null,
      finish_reason: null,
    });
    return id;
  }

  /** Ends sessions as SessionTerminator does: finished + tokens revoked + one devices.sync row per user, in one transaction. */
  async signOut(sessionIds: string[], reason = 'user_logout'): Promise<void> {
    await this.ds.transaction(async (em) => {
      const sessions = await em.find(OAuth2SessionEntity, { where: { id: In(sessionIds), finished_at: IsNull() } });
      if (!sessions.length) return;
      const now = Date.now();
      await em.update(OAuth2SessionEntity, { id: In(sessions.map((s) => s.id)) }, { finished_at: now, finish_reason: reason });
      await em.update(AccessTokenEntity, { session_id: In(sessions.map((s) => s.id)), revoked_at: IsNull() }, { revoked_at: now });
      const users = await em.find(UserEntity, { where: { id: In([...new Set(sessions.map((s) => s.user_id!))]) } });
      for (const u of users) {
        if (this.pg) await em.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`causeway.outbox:${u.localpart}`]);
        await em.insert(OutboxEntity, { user_key: u.localpart, kind: 'devices.sync', payload: {} as never, created_at: now, published_at: null, delivered_at: null });
      }
    });
  }

  /** Writes an outbox row on its own (deactivation, provisioning...). */
  async enqueue(localpart: string, kind: string, payload: Record<string, unknown> = {}): Promise<void> {
    await this.ds.transaction(async (em) => {
      if (this.pg) await em.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`causeway.outbox:${localpart}`]);
      await em.insert(OutboxEntity, { user_key: localpart, kind, payload: payload as never, created_at: Date.now(), published_at: null, delivered_at: null });
    });
  }

  async outbox(): Promise<OutboxEntity[]> {
    return this.ds.manager.find(OutboxEntity, { order: { id: 'ASC' } });
  }

  async undelivered(): Promise<number> {
    return this.ds.manager.count(OutboxEntity, { where: { delivered_at: IsNull(), dead_at: IsNull() } });
  }

  async close(): Promise<void> {
    await this.ds.destroy();
  }
}

/** Polls until `check` is true; throws after `timeoutMs` with `what` in the message. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
