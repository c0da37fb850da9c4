import { z } from 'zod';
import { CompatErrors } from './compat-errors.js';
import { deviceIdProblem, MAX_DEVICE_ID_LENGTH } from '../oauth2/scopes/scope.js';

/**
 * The body of `POST /_matrix/client/{v}/login` (docs/contracts/synapse.md §5.2), shaped as MAS's
 * serde types: `type` picks the credentials, whose fields must then be well formed (else
 * M_BAD_JSON); unknown fields are ignored. Pure.
 */

const identifier = z.object({ type: z.string(), user: z.unknown().optional() }).refine((i) => i.type !== 'm.id.user' || typeof i.user === 'string');

const common = {
  /** serde `#[serde(default)] bool`: absent ⇒ false; null is not a bool. */
  refresh_token: z.boolean().optional(),
  device_id: z.string().nullish(),
  initial_device_display_name: z.string().nullish(),
};

const password = z.object({
  ...common,
  type: z.literal('m.login.password'),
  identifier: identifier.nullish(),
  user: z.string().nullish(),
  password: z.string(),
});
const token = z.object({ ...common, type: z.literal('m.login.token'), token: z.string() });
const other = z.object({ ...common, type: z.string() });

export type LoginRequest =
  { kind: 'token'; token: string; refreshToken: boolean; deviceId?: string; displayName?: string } | { kind: 'password' } | { kind: 'application_service' } | { kind: 'unsupported'; type: string };

/** Throws the Matrix error the client must get for a malformed body. */
export function parseLoginRequest(body: unknown): LoginRequest {
  const base = other.safeParse(body);
  if (!base.success) throw CompatErrors.badJson();
  const shaped = (schema: z.ZodType) => {
    if (!schema.safeParse(body).success) throw CompatErrors.badJson();
  };
  switch (base.data.type) {
    case 'm.login.password':
      // Causeway has no passwords: a well-formed password login is an unsupported type (as MAS with passwords off).
      shaped(password);
      return { kind: 'password' };
    case 'm.login.application_service':
      return { kind: 'application_service' };
    case 'm.login.token': {
      const t = token.safeParse(body);
      if (!t.success) throw CompatErrors.badJson();
      const deviceId = t.data.device_id ?? undefined;
      // The OAuth device id grammar, checked before the login token is spent.
      if (deviceId !== undefined && deviceIdProblem(deviceId)) throw CompatErrors.invalidDeviceId(deviceId.length > 0 && deviceId.length <= MAX_DEVICE_ID_LENGTH);
      const displayName = t.data.initial_device_display_name ?? undefined;
      if (displayName !== undefined && displayName.length > 100) throw CompatErrors.displayNameTooLong();
      return {
        kind: 'token',
        token: t.data.token,
        refreshToken: t.data.refresh_token ?? false,
        ...(deviceId !== undefined ? { deviceId } : {}),
        ...(displayName !== undefined ? { displayName } : {}),
      };
    }
    default:
      return { kind: 'unsupported', type: base.data.type };
  }
}

/** `POST /logout/all`: `{"io.element.only_compat_is_fine": true}` (anything else is the 404 of MAS). */
export const logoutAllBody = z.object({ 'io.element.only_compat_is_fine': z.boolean().optional() });
/** `POST /refresh`. */
export const refreshBody = z.object({ refresh_token: z.string() });
