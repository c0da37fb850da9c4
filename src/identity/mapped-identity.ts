import type { ImportAction, SyncPolicy } from '../upstream/mapping/claims.config.js';
import type { LocalpartProblem } from './localpart-policy.js';

/**
 * An upstream identity after claims mapping and attribute requirements: what linking and
 * registration need. The claims mapper (src/upstream/mapping/claims-mapper.ts) produces it; the
 * login machine keeps it between the callback and the registration form, so it is
 * JSON-serialisable. Declared once, here.
 */

/**
 * What to do about the localpart:
 * - `use`: create the account with `value`, no page (action force). Conflict ⇒ `on_conflict`.
 * - `confirm`: show the registration page with `value` fixed; the user confirms (action require).
 * - `ask`: show the registration page, pre-filled with `value` when there is one (suggest, ignore).
 */
/** What to do when a new identity's username already has an account (MAS's meanings; see provider.config.ts). */
export type OnConflict = 'fail' | 'link' | 'set' | 'replace' | 'confirm';

export interface MappedLocalpart {
  action: ImportAction;
  mode: 'use' | 'confirm' | 'ask';
  value?: string;
  /** Why the template's value was not offered (suggest only), for a hint on the page. */
  rejected?: LocalpartProblem;
  /** A Matrix user id never changes. */
  sync: 'first_login';
}

export interface MappedProfileValue {
  action: ImportAction;
  /** Undefined: nothing to import (ignored, missing, or invalid and not required). */
  value?: string;
  sync: SyncPolicy;
}

/** The avatar the IdP gave, as the `claims.avatar` template rendered it (fetched and checked at delivery). */
export interface MappedAvatar {
  /** An http(s) URL, or a base64 image. */
  value: string;
  sync: SyncPolicy;
  maxBytes: number;
  timeoutMs: number;
}

export interface MappedIdentity {
  providerId: string;
  /** Stable subject for the account link (upstream_links.subject). */
  subject: string;
  localpart: MappedLocalpart;
  displayname: MappedProfileValue;
  email: MappedProfileValue;
  /** Absent: the provider imports no avatar, or gave none at this sign-in. */
  avatar?: MappedAvatar;
  /** A localpart to `use` or `confirm` that already belongs to an unlinked account (provider `on_conflict`). */
  onConflict: OnConflict;
  /** The provider's `admin` rule (e.g. an IdP group) held at this sign-in; absent when the provider has none. */
  admin?: boolean;
}
