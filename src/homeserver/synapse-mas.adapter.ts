import { HomeserverAdapter, HomeserverError, type HomeserverUser, type ProvisionRequest } from './homeserver.adapter.js';
import { HomeserverHttp, isAscii, isSuccess, isUserNotFound, uploadAsUser, type HomeserverResponse } from './homeserver-http.js';

/**
 * Synapse ≥ 1.136's `/_synapse/mas/*` API, authenticated with the shared secret of its
 * `matrix_authentication_service` block (docs/contracts/synapse.md §3.2/§3.3; MAS's
 * `crates/matrix-synapse/src/modern.rs`). 1.135 served the API only under the experimental msc3861
 * block, with its admin token: that Synapse is `synapse-admin`'s (docs/contracts/synapse.md §1.3).
 */
export class SynapseMasAdapter extends HomeserverAdapter {
  constructor(private readonly http: HomeserverHttp) {
    super();
  }

  private async post(op: string, body: Record<string, unknown>): Promise<HomeserverResponse> {
    return this.http.send('POST', `_synapse/mas/${op}`, body);
  }

  /** Any 2xx is success; anything else an error (transient for 5xx). */
  private async postOk(op: string, body: Record<string, unknown>, alsoDone?: (r: HomeserverResponse) => boolean): Promise<void> {
    const r = await this.post(op, body);
    if (isSuccess(r.status) || alsoDone?.(r)) return;
    throw HomeserverHttp.errorFor('POST', `_synapse/mas/${op}`, r);
  }

  async provisionUser(req: ProvisionRequest): Promise<'created' | 'updated'> {
    const body: Record<string, unknown> = { localpart: req.localpart };
    if (req.displayname === null) body.unset_displayname = true;
    else if (req.displayname !== undefined) body.set_displayname = req.displayname;
    if (req.avatarUrl === null) body.unset_avatar_url = true;
    else if (req.avatarUrl !== undefined) body.set_avatar_url = req.avatarUrl;
    if (req.emails === null) body.unset_emails = true;
    else if (req.emails !== undefined) body.set_emails = req.emails;
    if (req.locked !== undefined) body.locked = req.locked;
    const r = await this.post('provision_user', body);
    // The one call where a specific 2xx matters: 201 created, 200 updated.
    if (r.status === 201) return 'created';
    if (r.status === 200) return 'updated';
    if (isSuccess(r.status)) throw new HomeserverError(`POST _synapse/mas/provision_user answered ${r.status} (expected 200 or 201)`, false, r.status);
    throw HomeserverHttp.errorFor('POST', '_synapse/mas/provision_user', r);
  }

  async isLocalpartAvailable(localpart: string): Promise<boolean> {
    if (!isAscii(localpart)) return false;
    const path = `_synapse/mas/is_localpart_available?localpart=${encodeURIComponent(localpart)}`;
    const r = await this.http.send('GET', path);
    if (isSuccess(r.status)) return true;
    const errcode = (r.body as { errcode?: unknown } | undefined)?.errcode;
    if (r.status >= 400 && r.status < 500 && ['M_INVALID_USERNAME', 'M_USER_IN_USE', 'M_EXCLUSIVE'].includes(errcode as string)) return false;
    throw HomeserverHttp.errorFor('GET', path, r);
  }

  async queryUser(localpart: string): Promise<HomeserverUser | null> {
    if (!isAscii(localpart)) return null;
    const path = `_synapse/mas/query_user?localpart=${encodeURIComponent(localpart)}`;
    const r = await this.http.send('GET', path);
    if (isUserNotFound(r)) return null;
    if (!isSuccess(r.status)) throw HomeserverHttp.errorFor('GET', path, r);
    const b = r.body as { user_id: string; display_name: string | null; avatar_url: string | null; is_suspended: boolean; is_deactivated: boolean };
    return { userId: b.user_id, displayName: b.display_name ?? null, avatarUrl: b.avatar_url ?? null, isSuspended: !!b.is_suspended, isDeactivated: !!b.is_deactivated };
  }

  async upsertDevice(localpart: string, deviceId: string, displayName?: string): Promise<void> {
    await this.postOk('upsert_device', { localpart, device_id: deviceId, ...(displayName !== undefined ? { display_name: displayName } : {}) });
  }

  async updateDeviceDisplayName(localpart: string, deviceId: string, displayName: string): Promise<void> {
    await this.postOk('update_device_display_name', { localpart, device_id: deviceId, display_name: displayName });
  }

  /** 204 also for a missing device; an unknown user has no device to remove either. */
  async deleteDevice(localpart: string, deviceId: string): Promise<void> {
    await this.postOk('delete_device', { localpart, device_id: deviceId }, isUserNotFound);
  }

  /** An unknown user with an empty target set is already in sync. */
  async syncDevices(localpart: string, deviceIds: string[]): Promise<void> {
    await this.postOk('sync_devices', { localpart, devices: [...new Set(deviceIds)] }, (r) => deviceIds.length === 0 && isUserNotFound(r));
  }

  /** Idempotent on deactivated users; a user the homeserver never knew has nothing to deactivate. */
  async deleteUser(localpart: string, erase: boolean): Promise<void> {
    await this.postOk('delete_user', { localpart, erase }, isUserNotFound);
  }

  async reactivateUser(localpart: string): Promise<void> {
    await this.postOk('reactivate_user', { localpart });
  }

  async setDisplayname(localpart: string, displayname: string | null): Promise<void> {
    if (displayname === null) await this.postOk('unset_displayname', { localpart });
    else await this.postOk('set_displayname', { localpart, displayname });
  }

  uploadMedia(accessToken: string, image: { bytes: Buffer; contentType: string; filename: string }): Promise<string> {
    return uploadAsUser(this.http, accessToken, image);
  }

  /** `provision_user` with `set_avatar_url` only (the other profile fields left as they are), as MAS sets profile fields. */
  async setAvatarUrl(localpart: string, mxc: string): Promise<void> {
    await this.provisionUser({ localpart, avatarUrl: mxc });
  }

  async allowCrossSigningReset(localpart: string): Promise<void> {
    await this.postOk('allow_cross_signing_reset', { localpart });
  }
}
