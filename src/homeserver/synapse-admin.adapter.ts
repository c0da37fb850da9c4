import { HomeserverAdapter, HomeserverError, type HomeserverUser, type ProvisionRequest } from './homeserver.adapter.js';
import { HomeserverHttp, isAscii, isSuccess, isUserNotFound, uploadAsUser, type HomeserverResponse } from './homeserver-http.js';

/**
 * The older path: Synapse's admin API with the msc3861 `admin_token`, exactly the calls MAS's
 * `synapse_legacy` driver makes (docs/contracts/synapse.md §4; MAS `crates/matrix-synapse/src/legacy.rs`).
 * User IDs and device IDs are percent-encoded into the path.
 */

/** Synapse records the OP's `sub` under this auth provider in msc3861 mode. */
export const EXTERNAL_ID_PROVIDER = 'oauth-delegated';
/** MAS gives deactivation a 5-minute client timeout (it leaves rooms, which can be slow). */
export const DEACTIVATE_TIMEOUT_MS = 5 * 60 * 1000;

interface AdminDevice {
  device_id: string;
  dehydrated?: boolean;
}

export class SynapseAdminAdapter extends HomeserverAdapter {
  constructor(
    private readonly http: HomeserverHttp,
    private readonly serverName: string,
  ) {
    super();
  }

  private mxid(localpart: string): string {
    return encodeURIComponent(`@${localpart}:${this.serverName}`);
  }

  private async expect(method: string, path: string, body: unknown, ok: (r: HomeserverResponse) => boolean, timeoutMs?: number): Promise<HomeserverResponse> {
    const r = await this.http.send(method, path, body, timeoutMs);
    if (ok(r)) return r;
    throw HomeserverHttp.errorFor(method, path, r);
  }

  async provisionUser(req: ProvisionRequest): Promise<'created' | 'updated'> {
    const body: Record<string, unknown> = {};
    if (req.subject !== undefined) body.external_ids = [{ auth_provider: EXTERNAL_ID_PROVIDER, external_id: req.subject }];
    // Unset is written as an empty value on this API.
    if (req.displayname !== undefined) body.displayname = req.displayname ?? '';
    if (req.avatarUrl !== undefined) body.avatar_url = req.avatarUrl ?? '';
    if (req.emails !== undefined) body.threepids = (req.emails ?? []).map((address) => ({ medium: 'email', address }));
    const path = `_synapse/admin/v2/users/${this.mxid(req.localpart)}`;
    const r = await this.http.send('PUT', path, body);
    if (r.status === 201) return 'created';
    if (r.status === 200) return 'updated';
    if (isSuccess(r.status)) throw new HomeserverError(`PUT ${path} answered ${r.status} (expected 200 or 201)`, false, r.status);
    throw HomeserverHttp.errorFor('PUT', path, r);
  }

  async isLocalpartAvailable(localpart: string): Promise<boolean> {
    if (!isAscii(localpart)) return false;
    const path = `_synapse/admin/v1/username_available?username=${encodeURIComponent(localpart)}`;
    const r = await this.http.send('GET', path);
    if (isSuccess(r.status)) return (r.body as { available?: unknown } | undefined)?.available === true;
    const errcode = (r.body as { errcode?: unknown } | undefined)?.errcode;
    if (r.status === 400 && ['M_USER_IN_USE', 'M_INVALID_USERNAME', 'M_EXCLUSIVE'].includes(errcode as string)) return false;
    throw HomeserverHttp.errorFor('GET', path, r);
  }

  async queryUser(localpart: string): Promise<HomeserverUser | null> {
    const path = `_synapse/admin/v2/users/${this.mxid(localpart)}`;
    const r = await this.http.send('GET', path);
    if (r.status === 404) return null;
    if (!isSuccess(r.status)) throw HomeserverHttp.errorFor('GET', path, r);
    const b = r.body as { name?: string; displayname?: string | null; avatar_url?: string | null; deactivated?: boolean; suspended?: boolean };
    return {
      userId: b.name ?? decodeURIComponent(this.mxid(localpart)),
      displayName: b.displayname ?? null,
      avatarUrl: b.avatar_url ?? null,
      isSuspended: !!b.suspended,
      isDeactivated: !!b.deactivated,
    };
  }

  async upsertDevice(localpart: string, deviceId: string, displayName?: string): Promise<void> {
    await this.expect('POST', `_synapse/admin/v2/users/${this.mxid(localpart)}/devices`, { device_id: deviceId }, (r) => isSuccess(r.status));
    if (displayName !== undefined) await this.updateDeviceDisplayName(localpart, deviceId, displayName);
  }

  async updateDeviceDisplayName(localpart: string, deviceId: string, displayName: string): Promise<void> {
    const path = `_synapse/admin/v2/users/${this.mxid(localpart)}/devices/${encodeURIComponent(deviceId)}`;
    await this.expect('PUT', path, { display_name: displayName }, (r) => isSuccess(r.status));
  }

  /** 200 also for a missing device; an unknown user has none to remove. */
  async deleteDevice(localpart: string, deviceId: string): Promise<void> {
    const path = `_synapse/admin/v2/users/${this.mxid(localpart)}/devices/${encodeURIComponent(deviceId)}`;
    await this.expect('DELETE', path, undefined, (r) => isSuccess(r.status) || isUserNotFound(r));
  }

  /** List, delete the extras (the call is sent even when there are none), add the missing ones; the dehydrated device is left alone. */
  async syncDevices(localpart: string, deviceIds: string[]): Promise<void> {
    const base = `_synapse/admin/v2/users/${this.mxid(localpart)}`;
    const list = await this.http.send('GET', `${base}/devices`);
    if (deviceIds.length === 0 && isUserNotFound(list)) return;
    if (!isSuccess(list.status)) throw HomeserverHttp.errorFor('GET', `${base}/devices`, list);
    const existing = ((list.body as { devices?: AdminDevice[] }).devices ?? []).filter((d) => d.dehydrated !== true).map((d) => d.device_id);
    const target = new Set(deviceIds);
    const extras = existing.filter((d) => !target.has(d));
    await this.expect('POST', `${base}/delete_devices`, { devices: extras }, (r) => isSuccess(r.status));
    const have = new Set(existing);
    for (const id of target) {
      if (!have.has(id)) await this.expect('POST', `${base}/devices`, { device_id: id }, (r) => isSuccess(r.status));
    }
  }

  async deleteUser(localpart: string, erase: boolean): Promise<void> {
    await this.expect('POST', `_synapse/admin/v1/deactivate/${this.mxid(localpart)}`, { erase }, (r) => isSuccess(r.status) || isUserNotFound(r), DEACTIVATE_TIMEOUT_MS);
  }

  async reactivateUser(localpart: string): Promise<void> {
    await this.expect('PUT', `_synapse/admin/v2/users/${this.mxid(localpart)}`, { deactivated: false }, (r) => r.status === 200 || r.status === 201);
  }

  /** Through the client API as the virtual admin; `""` unsets. */
  async setDisplayname(localpart: string, displayname: string | null): Promise<void> {
    await this.expect('PUT', `_matrix/client/v3/profile/${this.mxid(localpart)}/displayname`, { displayname: displayname ?? '' }, (r) => isSuccess(r.status));
  }

  uploadMedia(accessToken: string, image: { bytes: Buffer; contentType: string; filename: string }): Promise<string> {
    return uploadAsUser(this.http, accessToken, image);
  }

  /** `PUT /_synapse/admin/v2/users/<mxid>` with `avatar_url` (MAS's legacy driver sets profile fields the same way). */
  async setAvatarUrl(localpart: string, mxc: string): Promise<void> {
    await this.expect('PUT', `_synapse/admin/v2/users/${this.mxid(localpart)}`, { avatar_url: mxc }, (r) => r.status === 200 || r.status === 201);
  }

  /** Synapse answers 404 when the user has no master key yet: nothing to allow, as /_synapse/mas answers 200 then. */
  async allowCrossSigningReset(localpart: string): Promise<void> {
    const path = `_synapse/admin/v1/users/${this.mxid(localpart)}/_allow_cross_signing_replacement_without_uia`;
    await this.expect('POST', path, {}, (r) => isSuccess(r.status) || r.status === 404);
  }
}
