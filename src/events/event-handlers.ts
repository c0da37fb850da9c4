import { HomeserverError, type HomeserverAdapter } from '../homeserver/homeserver.adapter.js';
import type { HomeserverEventKind } from './homeserver-event.js';
import type { OutboxRow, OutboxStore, UserDevices } from './outbox.store.js';
import type { AvatarSetter } from './avatar-setter.js';

/**
 * What each event kind asks of the homeserver (docs/contracts/synapse.md §3.3). Every call is
 * idempotent, so a repeated delivery is harmless.
 *
 * | kind              | homeserver call                                                           |
 * |-------------------|---------------------------------------------------------------------------|
 * | devices.sync      | sync_devices with the devices of the user's still-active sessions, read   |
 * |                   | at delivery time (so one call covers every sign-out queued before it);    |
 * |                   | for an account imported from Synapse, delete_device for each device whose |
 * |                   | session ended (see deleteEndedDevices)                                    |
 * | user.provision    | provision_user (display name / emails / locked as given), then a sync     |
 * |                   | (none for an account imported from Synapse)                               |
 * | user.deactivate   | delete_user with `erase`                                                  |
 * | user.reactivate   | reactivate_user                                                           |
 * | user.displayname  | set_displayname / unset_displayname                                       |
 * | device.rename     | update_device_display_name (a device already gone counts as done)         |
 * | user.avatar       | the image checked, uploaded to the media repository as the user, then     |
 * |                   | provision_user set_avatar_url (AvatarSetter; a bad image is skipped)      |
 */

/** Kinds whose consecutive rows of one user collapse into one call (the call reads current state). */
export const COALESCING_KINDS: ReadonlySet<string> = new Set<HomeserverEventKind>(['devices.sync']);

export class UnknownEventKindError extends Error {}

/** How far before its `devices.sync` row a session may have ended and still have its device deleted by it. */
const ENDED_DEVICES_SLACK_MS = 60_000;

/**
 * An account imported from Synapse may have devices at the homeserver that Causeway never saw
 * (created before a partial import, between the last import run and the switch, or by another
 * path such as the admin API): a `sync_devices` listing Causeway's devices would delete them.
 * Instead each device whose session ended around the time these `devices.sync` rows were written
 * (SessionEnder writes the row with the sessions' finished_at; the slack covers any writer that
 * stamps the row later) is deleted, unless a live session still holds it. delete_device is
 * idempotent, so a repeated delivery, or a device deleted twice, is harmless.
 */
async function deleteEndedDevices(homeserver: HomeserverAdapter, store: OutboxStore, localpart: string, live: string[], rows: OutboxRow[]): Promise<void> {
  const since = Math.min(...rows.map((r) => r.createdAt)) - ENDED_DEVICES_SLACK_MS;
  const keep = new Set(live);
  for (const device of await store.endedDevices(localpart, since)) {
    if (!keep.has(device)) await homeserver.deleteDevice(localpart, device);
  }
}

/** `devices`: the user's active devices when the caller already read them (batch delivery). */
export async function deliverRows(
  homeserver: HomeserverAdapter,
  store: OutboxStore,
  localpart: string,
  kind: string,
  rows: OutboxRow[],
  devices?: UserDevices,
  /** Resolved on first need (implemented by the OAuth module, which mints the upload token). */
  avatars?: () => AvatarSetter,
): Promise<void> {
  const payload = rows[rows.length - 1]!.payload;
  switch (kind as HomeserverEventKind) {
    case 'devices.sync': {
      const state = devices ?? (await store.activeDevices(localpart));
      if (state.imported) return deleteEndedDevices(homeserver, store, localpart, state.live, rows);
      return homeserver.syncDevices(localpart, state.live);
    }
    case 'user.provision': {
      await homeserver.provisionUser({
        localpart,
        subject: await store.userIdOf(localpart),
        ...(payload.displayname !== undefined ? { displayname: payload.displayname as string | null } : {}),
        ...(payload.emails !== undefined ? { emails: payload.emails as string[] | null } : {}),
        ...(payload.locked !== undefined ? { locked: payload.locked as boolean } : {}),
      });
      // As MAS's ProvisionUserJob: the device list follows the account change (not the list of an
      // account imported from Synapse, which may hold devices Causeway never saw).
      const state = await store.activeDevices(localpart);
      if (!state.imported) await homeserver.syncDevices(localpart, state.live);
      return;
    }
    case 'user.deactivate':
      return homeserver.deleteUser(localpart, payload.erase !== false);
    case 'user.reactivate':
      return homeserver.reactivateUser(localpart);
    case 'user.displayname':
      return homeserver.setDisplayname(localpart, (payload.displayname as string | null | undefined) ?? null);
    case 'user.avatar': {
      if (!avatars) throw new UnknownEventKindError('no avatar setter in this process');
      // Each row is one sign-in's avatar: the last one is what the IdP gives now.
      const p = payload as { source: string; maxBytes: number; timeoutMs: number; providerId: string };
      return avatars().set(localpart, { source: p.source, maxBytes: p.maxBytes, timeoutMs: p.timeoutMs, providerId: p.providerId });
    }
    case 'device.rename':
      try {
        return await homeserver.updateDeviceDisplayName(localpart, payload.deviceId as string, payload.displayName as string);
      } catch (e) {
        // The device was signed out meanwhile: nothing left to rename.
        if (e instanceof HomeserverError && e.status === 404 && e.errcode === 'M_NOT_FOUND') return;
        throw e;
      }
    default:
      throw new UnknownEventKindError(`unknown event kind "${kind}"`);
  }
}
