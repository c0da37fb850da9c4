import { msg, type MessageKey, type Msg } from '../web/i18n/message.js';

/**
 * Which Matrix localparts Causeway hands out (pure; unit-tested at its edges).
 *
 * Grammar: the Matrix user id grammar (`a-z 0-9 . _ = - / +`), plus Synapse's registration rules:
 * no leading `_` (reserved for appservices), not all digits (reserved for guests), and the whole
 * `@localpart:server_name` at most 255 characters.
 */

/** Names nobody may register, whatever the config adds (`policy.reserved_localparts`). */
export const BUILTIN_RESERVED_LOCALPARTS: readonly string[] = [
  'admin',
  'administrator',
  'root',
  'synapse',
  'matrix',
  'server',
  'system',
  'support',
  'security',
  'abuse',
  'postmaster',
  'hostmaster',
  'webmaster',
  'noreply',
  'no-reply',
  'causeway',
];

export const MAX_USER_ID_LENGTH = 255;

/**
 * `policy.admin_localparts` name accounts that may be granted `urn:synapse:admin:*`: a listed name
 * nobody has registered yet would make whoever claims it first a homeserver admin (issue 13). So no
 * sign-in may create an account with one; existing accounts keep their names, their sign-ins and
 * their rights, and an admin pre-provisions new ones (admin API `POST /users`, `causeway manage`).
 */
export function isReservedForAdmins(localpart: string, adminLocalparts: readonly string[]): boolean {
  return adminLocalparts.some((a) => a.toLowerCase() === localpart);
}

export type LocalpartProblem = 'empty' | 'invalid_characters' | 'leading_underscore' | 'numeric' | 'too_long' | 'reserved';

export type LocalpartCheck = { ok: true } | { ok: false; problem: LocalpartProblem; message: Msg };

export interface LocalpartPolicyOptions {
  serverName: string;
  /** Extra reserved localparts (case-insensitive). */
  reserved?: readonly string[];
}

const ALLOWED = /^[a-z0-9._=\-/+]+$/;

/** User-facing explanation per problem (shown on the registration page; never echoes upstream data). */
export const LOCALPART_MESSAGES: Record<LocalpartProblem, MessageKey> = {
  empty: 'localpart.empty',
  invalid_characters: 'localpart.invalid_characters',
  leading_underscore: 'localpart.leading_underscore',
  numeric: 'localpart.numeric',
  too_long: 'localpart.too_long',
  reserved: 'localpart.reserved',
};

export function checkLocalpart(localpart: string, opts: LocalpartPolicyOptions): LocalpartCheck {
  const fail = (problem: LocalpartProblem): LocalpartCheck => ({ ok: false, problem, message: msg(LOCALPART_MESSAGES[problem]) });
  if (localpart.length === 0) return fail('empty');
  if (!ALLOWED.test(localpart)) return fail('invalid_characters');
  if (localpart.startsWith('_')) return fail('leading_underscore');
  if (/^\d+$/.test(localpart)) return fail('numeric');
  if (`@${localpart}:${opts.serverName}`.length > MAX_USER_ID_LENGTH) return fail('too_long');
  const reserved = new Set([...BUILTIN_RESERVED_LOCALPARTS, ...(opts.reserved ?? []).map((r) => r.toLowerCase())]);
  if (reserved.has(localpart)) return fail('reserved');
  return { ok: true };
}

/**
 * Turns free text (an upstream username, a name typed on the form) into a localpart candidate:
 * lower-cased, Unicode letters folded to ASCII where possible, other characters dropped, spaces
 * to dots. The result still has to pass `checkLocalpart` (it may be empty or reserved).
 */
export function localpartCandidate(raw: string): string {
  return raw
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .trim()
    .replace(/\s+/g, '.')
    .replace(/[^a-z0-9._=\-/+]/g, '')
    .replace(/^_+/, '');
}
