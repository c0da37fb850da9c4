/**
 * Sets an avatar the IdP gave (a `user.avatar` outbox row): implemented where access tokens are
 * made (oauth2/avatar/avatar-uploader.ts), since the image is uploaded as the user; resolved by
 * EventDelivery at run time so that this module does not depend on that one.
 */
export interface AvatarToSet {
  /** An http(s) URL or a base64 image. */
  source: string;
  maxBytes: number;
  timeoutMs: number;
  providerId: string;
}

export abstract class AvatarSetter {
  /** Resolves when set or skipped (a bad image is not retried); rejects with a transient HomeserverError to be retried. */
  abstract set(localpart: string, avatar: AvatarToSet): Promise<void>;
}
