import type { ImportAction } from '../upstream/mapping/claims.config.js';

/**
 * An upstream identity after claims mapping and attribute requirements: what linking and
 * registration need (the claims mapper of src/upstream/mapping/ produces it). JSON-serialisable:
 * it is kept in the login machine between the callback and the registration form.
 */
/** What to do when a new identity's username already has an account (MAS's meanings; see provider.config.ts). */
export type OnConflict = 'fail' | 'link' | 'set' | 'replace' | 'confirm';

export interface MappedLocalpart {
  action: ImportAction;
  /** `use`: create the account with `value` (force); `confirm`: registration page with `value` fixed (require); `ask`: the user picks, pre-filled with `value` if any (suggest, ignore). */
  mode: 'use' | 'confirm' | 'ask';
  value?: string;
  sync: 'first_login';
}

export interface MappedProfileValue {
  action: ImportAction;
  value?: string;
  sync: 'first_login' | 'always';
}

export interface MappedIdentity {
  providerId: string;
  /** The stable subject the link is keyed on. */
  subject: string;
  localpart: MappedLocalpart;
  displayname: MappedProfileValue;
  email: MappedProfileValue;
  /** A localpart to `use` or `confirm` that already belongs to an unlinked account (provider `on_conflict`). */
  onConflict: OnConflict;
  /** The provider's `admin` rule (e.g. an IdP group) held at this sign-in; absent when the provider has none. */
  admin?: boolean;
}
