import { HomeserverAdapter, HomeserverError } from '../../homeserver/homeserver.adapter.js';

/**
 * TEMPORARY stand-in until the homeserver module (branch hs-events) is merged and provides the
 * real HomeserverAdapter: every call fails as "unreachable", so nothing pretends to succeed.
 */
export class UnavailableHomeserverAdapter extends HomeserverAdapter {
  private fail(): never {
    throw new HomeserverError('no homeserver adapter is configured in this build', true);
  }
  provisionUser(): never { return this.fail(); }
  isLocalpartAvailable(): never { return this.fail(); }
  queryUser(): never { return this.fail(); }
  upsertDevice(): never { return this.fail(); }
  updateDeviceDisplayName(): never { return this.fail(); }
  deleteDevice(): never { return this.fail(); }
  syncDevices(): never { return this.fail(); }
  deleteUser(): never { return this.fail(); }
  reactivateUser(): never { return this.fail(); }
  setDisplayname(): never { return this.fail(); }
  uploadMedia(): never { return this.fail(); }
  setAvatarUrl(): never { return this.fail(); }
  allowCrossSigningReset(): never { return this.fail(); }
}
