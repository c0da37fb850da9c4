import type { StandinState } from './standin-state.js';

/** A Synapse database the stand-in can read (test/support/synapse-fixture.ts provides one). */
export interface SynapseRows {
  all<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

const bool = (v: unknown) => v === true || v === 1 || v === '1';

/**
 * Makes the stand-in know what Synapse knows after years of running on its own database: every
 * local user of `users` (guests and appservice users included) with its profile, deactivated,
 * locked and suspended flags, validated emails (`user_threepids`), external ids, and every device
 * (hidden ones included, as Synapse keeps cross-signing key ids in `devices`). Tokens stay in the
 * database: with delegated auth Synapse asks the OP about every token, it never reads its own.
 */
export async function loadSynapseDatabase(state: StandinState, db: SynapseRows): Promise<number> {
  const suffix = `:${state.serverName}`;
  const local = (id: string) => (id.startsWith('@') && id.endsWith(suffix) ? id.slice(1, -suffix.length) : undefined);
  const users = await db.all<Record<string, unknown>>('SELECT u.name, u.deactivated, u.locked, u.suspended, p.displayname, p.avatar_url FROM users u LEFT JOIN profiles p ON p.full_user_id = u.name');
  for (const r of users) {
    const localpart = local(String(r.name));
    if (localpart === undefined) continue;
    const u = state.register(localpart, (r.displayname as string | null) ?? null);
    u.avatarUrl = (r.avatar_url as string | null) ?? null;
    u.deactivated = bool(r.deactivated);
    u.locked = bool(r.locked);
    u.suspended = bool(r.suspended);
  }
  for (const r of await db.all<Record<string, unknown>>("SELECT user_id, address FROM user_threepids WHERE medium = 'email'")) {
    state.getById(String(r.user_id))?.emails.add(String(r.address));
  }
  for (const r of await db.all<Record<string, unknown>>('SELECT user_id, auth_provider, external_id FROM user_external_ids')) {
    state.getById(String(r.user_id))?.externalIds.set(String(r.auth_provider), String(r.external_id));
  }
  for (const r of await db.all<Record<string, unknown>>('SELECT user_id, device_id, display_name, hidden FROM devices')) {
    const u = state.getById(String(r.user_id));
    if (!u) continue;
    u.devices.set(String(r.device_id), { deviceId: String(r.device_id), displayName: (r.display_name as string | null) ?? null, hidden: bool(r.hidden), dehydrated: false });
  }
  return users.length;
}
