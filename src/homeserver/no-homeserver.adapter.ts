import { HomeserverAdapter, HomeserverError, type HomeserverUser, type ProvisionRequest } from './homeserver.adapter.js';
import { isAscii } from './homeserver-http.js';

/**
 * `matrix.api: none` (dev_mode only): trials without a homeserver. Every call succeeds at once and
 * reaches nobody, so a login completes and tokens introspect, but no homeserver knows the user:
 * it is for trying the sign-in pages and the OAuth flows, never for serving Matrix clients.
 */
export class NoHomeserverAdapter extends HomeserverAdapter {
  private readonly provisioned = new Set<string>();

  provisionUser(req: ProvisionRequest): Promise<'created' | 'updated'> {
    const known = this.provisioned.has(req.localpart);
    this.provisioned.add(req.localpart);
    return Promise.resolve(known ? 'updated' : 'created');
  }

  /** Synapse refuses non-ASCII localparts; keep the same answer so trials behave like production. */
  isLocalpartAvailable(localpart: string): Promise<boolean> {
    return Promise.resolve(isAscii(localpart));
  }

  queryUser(): Promise<HomeserverUser | null> {
    return Promise.resolve(null);
  }

  upsertDevice(): Promise<void> {
    return Promise.resolve();
  }

  updateDeviceDisplayName(): Promise<void> {
    return Promise.resolve();
  }

  deleteDevice(): Promise<void> {
    return Promise.resolve();
  }

  syncDevices(): Promise<void> {
    return Promise.resolve();
  }

  deleteUser(localpart: string): Promise<void> {
    this.provisioned.delete(localpart);
    return Promise.resolve();
  }

  reactivateUser(): Promise<void> {
    return Promise.resolve();
  }

  setDisplayname(): Promise<void> {
    return Promise.resolve();
  }

  /** No media repository: nothing is uploaded (the avatar is skipped before this is reached). */
  uploadMedia(): Promise<string> {
    return Promise.reject(new HomeserverError('matrix.api none has no media repository', false));
  }

  setAvatarUrl(): Promise<void> {
    return Promise.resolve();
  }

  allowCrossSigningReset(): Promise<void> {
    return Promise.resolve();
  }
}
