import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { QueryFailedError, type DataSource } from 'typeorm';
import { createLogger } from '../../../src/http/logger.js';
import { openDataSource, runMigrations } from '../../../src/storage/data-source.js';
import { UserEntity } from '../../../src/storage/entities/index.js';
import { ulid } from '../../../src/storage/ulid.js';

/**
 * Issue 13, F6: a database error reached the logs with TypeORM's bound `parameters` and its
 * `driverError` (login snapshots hold PKCE verifiers, nonces, IdP attributes). A real failed query
 * (a duplicate localpart on SQLite) is logged through Causeway's own logger.
 */
const SECRET = 'pkce-verifier-3f9a1c-never-in-logs';

describe('F6: database errors are logged without their values', () => {
  let dir: string;
  let ds: DataSource;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'causeway-f6-'));
    ds = await openDataSource({ url: `sqlite://${dir}/f6.db` });
    await runMigrations(ds);
  });
  afterAll(async () => {
    await ds?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('drops parameters and driverError from the serialized error, keeps what failed', async () => {
    const row = { localpart: SECRET, created_at: Date.now(), locked_at: null, deactivated_at: null, can_request_admin: false, display_name: SECRET, email: null };
    await ds.manager.insert(UserEntity, { id: ulid(), ...row });
    const err = await ds.manager.insert(UserEntity, { id: ulid(), ...row }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(QueryFailedError);
    expect((err as QueryFailedError).parameters).toContain(SECRET);

    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const logger = createLogger('info', false, sink);
    logger.error({ err }, 'storing the user failed');
    logger.error({ err: new Error('wrapped', { cause: err }) }, 'wrapped');
    await new Promise((r) => setImmediate(r));

    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0]!) as { err: Record<string, unknown> };
    expect(first.err.type).toBe('QueryFailedError');
    expect(String(first.err.message)).toMatch(/UNIQUE constraint failed/);
    expect(first.err).not.toHaveProperty('parameters');
    expect(first.err).not.toHaveProperty('driverError');
    for (const line of lines) expect(line).not.toContain(SECRET);
  });
});
