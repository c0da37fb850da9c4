/**
 * The `action` parameter of the account management URL (MSC4191; SPEC v1.18), with the aliases
 * clients still send (docs/contracts/matrix-clients.md §8). Pure.
 */
export type AccountAction = 'org.matrix.profile' | 'org.matrix.devices_list' | 'org.matrix.device_view' | 'org.matrix.device_delete' | 'org.matrix.account_deactivate' | 'org.matrix.cross_signing_reset';

const ALIASES: Record<string, AccountAction> = {
  'org.matrix.profile': 'org.matrix.profile',
  profile: 'org.matrix.profile',
  'org.matrix.devices_list': 'org.matrix.devices_list',
  sessions_list: 'org.matrix.devices_list',
  'org.matrix.sessions_list': 'org.matrix.devices_list',
  'org.matrix.device_view': 'org.matrix.device_view',
  session_view: 'org.matrix.device_view',
  'org.matrix.session_view': 'org.matrix.device_view',
  'org.matrix.device_delete': 'org.matrix.device_delete',
  session_end: 'org.matrix.device_delete',
  'org.matrix.session_end': 'org.matrix.device_delete',
  'org.matrix.account_deactivate': 'org.matrix.account_deactivate',
  'org.matrix.cross_signing_reset': 'org.matrix.cross_signing_reset',
};

/** The canonical action, or the sessions list for an absent or unknown one. */
export function accountAction(raw: string | undefined): AccountAction {
  return (raw && ALIASES[raw]) || 'org.matrix.devices_list';
}

/** Actions that change something irreversible: confirmed, and only after a recent sign-in. */
export const DESTRUCTIVE: ReadonlySet<AccountAction> = new Set(['org.matrix.device_delete', 'org.matrix.account_deactivate', 'org.matrix.cross_signing_reset']);
