import { SynapseError } from './synapse-error.js';

/** Synapse's MAX_USERID_LENGTH. */
export const MAX_USERID_LENGTH = 255;

/** `types.contains_invalid_mxid_characters`: the modern localpart grammar. */
export const containsInvalidMxidCharacters = (localpart: string) => !/^[a-z0-9=_\-./+]*$/.test(localpart);

/** Python's `int(s)` succeeds (optional sign, digits with single underscores between them). */
const pythonIntParses = (s: string) => /^[+-]?\d+(_\d+)*$/.test(s);

export interface UsernameContext {
  serverName: string;
  allowUnderscorePrefix: boolean;
  /** Exclusive appservice user namespaces. */
  exclusiveUserRegexes: RegExp[];
  /** Case-insensitive existence check (`get_users_by_id_case_insensitive`). */
  userIdTakenCaseInsensitive(userId: string): boolean;
}

/** `RegistrationHandler.check_username`, in Synapse's order, with its errcodes and texts. */
export function checkUsername(localpart: string, ctx: UsernameContext): void {
  if (containsInvalidMxidCharacters(localpart)) {
    throw new SynapseError(400, "User ID can only contain characters a-z, 0-9, or '=_-./+'", 'M_INVALID_USERNAME');
  }
  if (!localpart) throw new SynapseError(400, 'User ID cannot be empty', 'M_INVALID_USERNAME');
  if (localpart[0] === '_' && !ctx.allowUnderscorePrefix) {
    throw new SynapseError(400, 'User ID may not begin with _', 'M_INVALID_USERNAME');
  }
  const userId = `@${localpart}:${ctx.serverName}`;
  if (ctx.exclusiveUserRegexes.some((r) => r.test(userId))) {
    throw new SynapseError(400, 'This user ID is reserved by an application service.', 'M_EXCLUSIVE');
  }
  if (userId.length > MAX_USERID_LENGTH) {
    throw new SynapseError(400, `User ID may not be longer than ${MAX_USERID_LENGTH} characters`, 'M_INVALID_USERNAME');
  }
  if (ctx.userIdTakenCaseInsensitive(userId)) throw new SynapseError(400, 'User ID already taken.', 'M_USER_IN_USE');
  if (pythonIntParses(localpart)) {
    throw new SynapseError(400, 'Numeric user IDs are reserved for guest users.', 'M_INVALID_USERNAME');
  }
}
