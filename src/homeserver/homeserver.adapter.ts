/**
 * Everything Causeway asks of the homeserver (docs/contracts/synapse.md §3, §4). Implemented by
 * synapse-mas (/_synapse/mas/*) and synapse-admin (admin API); chosen by `matrix.api`.
 * Every operation is idempotent, so at-least-once delivery may repeat it safely.
 */
export interface ProvisionRequest {
  localpart: string;
  /**
   * The `sub` Causeway's introspection reports for this user. Only the synapse-admin path uses it
   * (as the `oauth-delegated` external ID Synapse maps `sub` through); omitted ⇒ left alone.
   */
  subject?: string;
  /** `undefined` leaves the value alone, `null` unsets it. */
  displayname?: string | null;
  avatarUrl?: string | null;
  emails?: string[] | null;
  locked?: boolean;
}

export interface HomeserverUser {
  userId: string;
  displayName: string | null;
  avatarUrl: string | null;
  isSuspended: boolean;
  isDeactivated: boolean;
}

export abstract class HomeserverAdapter {
  abstract provisionUser(req: ProvisionRequest): Promise<'created' | 'updated'>;
  abstract isLocalpartAvailable(localpart: string): Promise<boolean>;
  abstract queryUser(localpart: string): Promise<HomeserverUser | null>;
  abstract upsertDevice(localpart: string, deviceId: string, displayName?: string): Promise<void>;
  abstract updateDeviceDisplayName(localpart: string, deviceId: string, displayName: string): Promise<void>;
  abstract deleteDevice(localpart: string, deviceId: string): Promise<void>;
  /** Makes the homeserver's device list equal to `deviceIds` (deletes extras, adds missing). */
  abstract syncDevices(localpart: string, deviceIds: string[]): Promise<void>;
  abstract deleteUser(localpart: string, erase: boolean): Promise<void>;
  abstract reactivateUser(localpart: string): Promise<void>;
  abstract setDisplayname(localpart: string, displayname: string | null): Promise<void>;
  /**
   * Uploads an image to the media repository as the user (`accessToken` is one of theirs, which the
   * homeserver introspects) and returns its `mxc://` URI (docs/contracts/synapse.md §3.4).
   */
  abstract uploadMedia(accessToken: string, image: { bytes: Buffer; contentType: string; filename: string }): Promise<string>;
  /** Sets the user's avatar to an `mxc://` URI. */
  abstract setAvatarUrl(localpart: string, mxc: string): Promise<void>;
  abstract allowCrossSigningReset(localpart: string): Promise<void>;
}

/**
 * A failed homeserver call. `transient` (5xx, timeout, connection refused): retry later.
 * Otherwise permanent (4xx): retrying will not help.
 */
export class HomeserverError extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
    readonly status?: number,
    readonly errcode?: string,
  ) {
    super(message);
    this.name = 'HomeserverError';
  }
}
