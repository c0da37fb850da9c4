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

export interface MappedIdentity {
  providerId: string;
  /** Stable subject for the account link (upstream_links.subject). */
  subject: string;
  localpart: MappedLocalpart;
  displayname: MappedProfileValue;
  email: MappedProfileValue;
  /**
   * When the localpart to `use` already belongs to an account that is not linked to this
   * identity: `fail` refuses the sign-in; `link` attaches this identity to that account (only for
   * IdPs trusted to assert who owns a username).
   */
  onConflict: 'fail' | 'link';
  /** The provider's `admin` rule held (true) or not (false); absent when the provider has no rule. */
  admin?: boolean;
}
