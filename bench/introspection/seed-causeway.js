// Seeds N live access tokens straight into Causeway's database (hashes only), as the token
// endpoint would have stored them: 1,000 users, one session (with its device) per token.
import { openDataSource, runMigrations } from '../../dist/storage/data-source.js';
import { AccessTokenEntity, OAuth2SessionEntity, UserEntity } from '../../dist/storage/entities/index.js';
import { generateToken, sha256Hex } from '../../dist/crypto/token-format.js';
import { ulid } from '../../dist/storage/ulid.js';

/** @param {{ url: string, schema?: string }} db @param {number} count */
export async function seedCauseway({ url, schema }, count) {
  const ds = await openDataSource({ url, schema });
  await runMigrations(ds);
  const now = Date.now();
  const users = Array.from({ length: 1000 }, (_, i) => ({
    id: ulid(now),
    localpart: `bench${i}`,
    created_at: now,
    locked_at: null,
    deactivated_at: null,
    can_request_admin: false,
    display_name: null,
    email: null,
  }));
  const tokens = [];
  const sessions = [];
  const access = [];
  for (let i = 0; i < count; i++) {
    const device = `DEV${String(i).padStart(7, '0')}`;
    const session = {
      id: ulid(now),
      user_id: users[i % users.length].id,
      client_id: 'bench-client',
      device_id: device,
      scope: `urn:matrix:client:api:* urn:matrix:client:device:${device}`,
      grant_type: 'authorization_code',
      browser_session_id: null,
      created_at: now,
      last_active_at: now,
      finished_at: null,
      finish_reason: null,
    };
    const token = generateToken('access');
    tokens.push(token);
    sessions.push(session);
    // Steady state: tokens the homeserver has seen before (first use already recorded).
    access.push({ id: ulid(now), token_hash: sha256Hex(token), session_id: session.id, created_at: now, expires_at: now + 3600_000, revoked_at: null, first_used_at: now });
  }
  await ds.transaction(async (em) => {
    for (let i = 0; i < users.length; i += 500) await em.insert(UserEntity, users.slice(i, i + 500));
    for (let i = 0; i < count; i += 500) {
      await em.insert(OAuth2SessionEntity, sessions.slice(i, i + 500));
      await em.insert(AccessTokenEntity, access.slice(i, i + 500));
    }
  });
  await ds.destroy();
  return tokens;
}
