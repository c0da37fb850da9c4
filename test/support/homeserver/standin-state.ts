import { SynapseError } from './synapse-error.js';

/**
 * What the stand-in homeserver knows: users, their devices and profiles. The operations mirror the
 * Synapse handlers the HTTP endpoints call (register, deactivate, upsert/delete devices, profile).
 */

export interface StandinDevice {
  deviceId: string;
  displayName: string | null;
  /** Hidden devices (cross-signing key IDs) reserve an ID but are not devices for clients. */
  hidden: boolean;
  /** The MSC3814 dehydrated device: `sync_devices` leaves it alone. */
  dehydrated: boolean;
}

export interface StandinUser {
  userId: string;
  localpart: string;
  displayName: string | null;
  avatarUrl: string | null;
  emails: Set<string>;
  deactivated: boolean;
  erased: boolean;
  locked: boolean;
  suspended: boolean;
  /** external_ids rows: auth_provider → external_id. */
  externalIds: Map<string, string>;
  /** Cross-signing: the master key (when uploaded) and until when it may be replaced without UIA. */
  masterKey: string | null;
  masterKeyReplaceableUntil: number | null;
  devices: Map<string, StandinDevice>;
}

/** A file of the media repository (`media_repository.py`, local media). */
export interface StandinMedia {
  mediaId: string;
  bytes: Buffer;
  contentType: string;
  filename: string | null;
  /** The user id of the uploader (the requester of the upload). */
  uploader: string;
}

export class StandinState {
  readonly users = new Map<string, StandinUser>();
  /** Local media by `mxc://<server>/<media id>`. */
  readonly media = new Map<string, StandinMedia>();

  constructor(readonly serverName: string) {}

  userId(localpart: string): string {
    return `@${localpart}:${this.serverName}`;
  }

  get(localpart: string): StandinUser | undefined {
    return this.users.get(this.userId(localpart));
  }

  getById(userId: string): StandinUser | undefined {
    return this.users.get(userId);
  }

  takenCaseInsensitive(userId: string): boolean {
    const lower = userId.toLowerCase();
    for (const id of this.users.keys()) if (id.toLowerCase() === lower) return true;
    return false;
  }

  /** `register_user` (no username checks here; the caller runs them first). */
  register(localpart: string, displayName: string | null, emails: string[] = []): StandinUser {
    const user: StandinUser = {
      userId: this.userId(localpart),
      localpart,
      displayName,
      avatarUrl: null,
      emails: new Set(emails),
      deactivated: false,
      erased: false,
      locked: false,
      suspended: false,
      externalIds: new Map(),
      masterKey: null,
      masterKeyReplaceableUntil: null,
      devices: new Map(),
    };
    this.users.set(user.userId, user);
    return user;
  }

  /** `DeviceHandler.upsert_device` / `store_device`: true when created. A hidden device with that ID refuses. */
  upsertDevice(user: StandinUser, deviceId: string, displayName: string | null): boolean {
    const existing = user.devices.get(deviceId);
    if (existing?.hidden) throw new SynapseError(400, 'The device ID is in use', 'M_FORBIDDEN');
    if (existing) {
      if (displayName !== null) existing.displayName = displayName;
      return false;
    }
    user.devices.set(deviceId, { deviceId, displayName, hidden: false, dehydrated: false });
    return true;
  }

  /** Visible devices (what clients and MAS-facing APIs see). */
  visibleDevices(user: StandinUser): StandinDevice[] {
    return [...user.devices.values()].filter((d) => !d.hidden);
  }

  hasVisibleDevice(user: StandinUser, deviceId: string): boolean {
    const d = user.devices.get(deviceId);
    return !!d && !d.hidden;
  }

  /** `delete_devices`: missing IDs are ignored; hidden devices are not touched. */
  deleteDevices(user: StandinUser, deviceIds: Iterable<string>): void {
    for (const id of deviceIds) {
      const d = user.devices.get(id);
      if (d && !d.hidden) user.devices.delete(id);
    }
  }

  /** `DeactivateAccountHandler.deactivate_account`: devices (hence tokens) and 3PIDs gone, flag set; erase clears the profile. */
  deactivate(user: StandinUser, erase: boolean): void {
    this.deleteDevices(user, [...user.devices.keys()]);
    user.emails.clear();
    user.deactivated = true;
    if (erase) {
      user.displayName = null;
      user.avatarUrl = null;
      user.erased = true;
    }
  }

  /** `activate_account`: un-erases and clears the flag; nothing else comes back. */
  reactivate(user: StandinUser): void {
    user.erased = false;
    user.deactivated = false;
  }
}
