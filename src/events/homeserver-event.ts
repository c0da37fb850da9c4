/**
 * What the homeserver must learn, as written to the outbox. Each kind is delivered by one
 * homeserver call (the table in event-handlers.ts; docs/architecture.md, "A sign-out, step by
 * step"). Delivery is at least once and in order per user (`localpart` is the ordering key), so
 * each must be idempotent.
 */
export type HomeserverEvent =
  /** Recompute the user's device set from the still-active sessions and `sync_devices` it (every sign-out). */
  | { kind: 'devices.sync'; localpart: string }
  | { kind: 'user.provision'; localpart: string; displayname?: string | null; emails?: string[] | null; locked?: boolean }
  | { kind: 'user.deactivate'; localpart: string; erase: boolean }
  | { kind: 'user.reactivate'; localpart: string }
  | { kind: 'user.displayname'; localpart: string; displayname: string | null }
  /** An avatar from the IdP (an http(s) URL or a base64 image), checked and uploaded as the user at delivery, then set on the profile. */
  | { kind: 'user.avatar'; localpart: string; source: string; maxBytes: number; timeoutMs: number; providerId: string }
  | { kind: 'device.rename'; localpart: string; deviceId: string; displayName: string };

export type HomeserverEventKind = HomeserverEvent['kind'];
