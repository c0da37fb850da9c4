// Seeds the benchmark's users, sessions and live access tokens straight into Causeway's database
// (as sign-ins would leave them), so the benchmark spends its time on sign-outs.
import { openDataSource } from '../../dist/storage/data-source.js';
import { AccessTokenEntity, OAuth2SessionEntity, OutboxEntity, UserEntity } from '../../dist/storage/entities/index.js';
import { generateToken, sha256Hex } from '../../dist/crypto/token-format.js';
import { ulid } from '../../dist/storage/ulid.js';
import { IsNull } from 'typeorm';

const CHUNK = 500;

export async function seed(database, clientId, groups) {
  const ds = await openDataSource({ url: database.url, schema: database.schema, pool_size: 4 });
  const out = {};
  const now = Date.now();
  for (const [name, { users, sessions }] of Object.entries(groups)) {
    const list = [];
    let userRows = [];
    let sessionRows = [];
    let tokenRows = [];
    const flush = async () => {
      if (userRows.length) await ds.manager.insert(UserEntity, userRows);
      if (sessionRows.length) await ds.manager.insert(OAuth2SessionEntity, sessionRows);
      if (tokenRows.length) await ds.manager.insert(AccessTokenEntity, tokenRows);
      userRows = [];
      sessionRows = [];
      tokenRows = [];
    };
    for (let u = 0; u < users; u++) {
      const localpart = `${name}${u}`;
      const userId = ulid(now);
      userRows.push({ id: userId, localpart, created_at: now, locked_at: null, deactivated_at: null, can_request_admin: false, display_name: null, email: null });
      for (let s = 0; s < sessions; s++) {
        const sessionId = ulid(now);
        const deviceId = `${name.toUpperCase()}${u}D${s}`;
        sessionRows.push({
          id: sessionId,
          user_id: userId,
          client_id: clientId,
          device_id: deviceId,
          scope: `urn:matrix:client:api:* urn:matrix:client:device:${deviceId}`,
          grant_type: 'authorization_code',
          browser_session_id: null,
          created_at: now,
          last_active_at: null,
          finished_at: null,
          finish_reason: null,
        });
        const token = generateToken('access');
        tokenRows.push({ id: ulid(now), token_hash: sha256Hex(token), session_id: sessionId, created_at: now, expires_at: null, revoked_at: null, first_used_at: null });
        list.push({ localpart, token, round: s });
      }
      if (sessionRows.length >= CHUNK) await flush();
    }
    await flush();
    // Round by round (every user's first session, then every user's second, …): revocations that
    // arrive together share one transaction, and one transaction ending two sessions of a user writes
    // ONE devices.sync event; far apart, each sign-out is an event of its own, so phase C's backlog
    // really holds users × sessions events (several per user, which delivery then coalesces).
    out[name] = list.sort((x, y) => x.round - y.round);
  }
  // Planner statistics, as autovacuum keeps them in a database that grew the usual way (seeded tables
  // would otherwise still look empty to PostgreSQL for a while, and get scanned whole).
  if (ds.options.type === 'postgres') await ds.query('ANALYZE');
  return { handle: ds, groups: out, close: () => ds.destroy() };
}

export async function countUndelivered(ds) {
  return ds.manager.count(OutboxEntity, { where: { delivered_at: IsNull(), dead_at: IsNull() } });
}
