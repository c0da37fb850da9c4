import type { DelegatedAuth } from './delegated-auth.js';
import type { Clock } from './introspection.js';
import { queryString, type HandlerResult, type RequestContext, type Route } from './http-types.js';
import { parseJsonObject, validateModel, type ModelSpec } from './pydantic-body.js';
import { SynapseError, notFound } from './synapse-error.js';
import type { StandinState, StandinUser } from './standin-state.js';
import { checkUsername, type UsernameContext } from './username.js';

/**
 * `/_synapse/mas/*` (synapse/rest/synapse/mas/{users,devices}.py at 1.157.1): docs/contracts/synapse.md §3.
 * Every handler checks the secret first, then parses, then looks the user up.
 */

export const MAX_DISPLAYNAME_LEN = 256;
export const MAX_AVATAR_URL_LEN = 1000;
export const MAX_DEVICE_DISPLAY_NAME_LEN = 100;
/** `MasAllowCrossSigningResetResource.REPLACEMENT_PERIOD_MS`. */
export const CROSS_SIGNING_REPLACEMENT_PERIOD_MS = 10 * 60 * 1000;

const exclusive = (a: string, b: string) => (v: Record<string, unknown>) => (a in v && b in v ? `Cannot specify both ${a} and ${b}` : undefined);

const ProvisionUser: ModelSpec = {
  name: 'PostBody',
  fields: {
    localpart: { type: 'str' },
    unset_displayname: { type: 'bool', default: false },
    set_displayname: { type: 'str', nullable: true, default: null },
    unset_avatar_url: { type: 'bool', default: false },
    set_avatar_url: { type: 'str', nullable: true, default: null },
    unset_emails: { type: 'bool', default: false },
    set_emails: { type: 'str_list', nullable: true, default: null },
    locked: { type: 'bool', nullable: true, default: null },
  },
  before: (v) => exclusive('unset_displayname', 'set_displayname')(v) ?? exclusive('unset_avatar_url', 'set_avatar_url')(v) ?? exclusive('unset_emails', 'set_emails')(v),
};
const LocalpartOnly: ModelSpec = { name: 'PostBody', fields: { localpart: { type: 'str' } } };
const DeleteUser: ModelSpec = { name: 'PostBody', fields: { localpart: { type: 'str' }, erase: { type: 'bool' } } };
const SetDisplayname: ModelSpec = { name: 'PostBody', fields: { localpart: { type: 'str' }, displayname: { type: 'str' } } };
const UpsertDevice: ModelSpec = {
  name: 'PostBody',
  fields: { localpart: { type: 'str' }, device_id: { type: 'str' }, display_name: { type: 'str', nullable: true, default: null } },
};
const DeleteDevice: ModelSpec = { name: 'PostBody', fields: { localpart: { type: 'str' }, device_id: { type: 'str' } } };
const UpdateDeviceName: ModelSpec = {
  name: 'PostBody',
  fields: { localpart: { type: 'str' }, device_id: { type: 'str' }, display_name: { type: 'str' } },
};
const SyncDevices: ModelSpec = { name: 'PostBody', fields: { localpart: { type: 'str' }, devices: { type: 'str_set' } } };

/** `parse_string(..., encoding="ascii")`: a non-ASCII value is a 400 M_UNKNOWN. */
function asciiQuery(url: URL, name: string): string | undefined {
  const v = queryString(url, name);
  if (v !== undefined && /[^\x00-\x7f]/.test(v)) throw new SynapseError(400, `Query parameter '${name}' must be ascii`);
  return v;
}

/** ProfileHandler.set_displayname (by admin): length check, trim, "" clears. */
export function applyDisplayname(user: StandinUser, value: string): void {
  if (value.length > MAX_DISPLAYNAME_LEN) throw new SynapseError(400, `Displayname is too long (max ${MAX_DISPLAYNAME_LEN})`);
  user.displayName = value === '' ? null : value.trim();
}

/** ProfileHandler.set_avatar_url (by admin). */
export function applyAvatarUrl(user: StandinUser, value: string): void {
  if (value.length > MAX_AVATAR_URL_LEN) throw new SynapseError(400, `Avatar URL is too long (max ${MAX_AVATAR_URL_LEN})`);
  user.avatarUrl = value === '' ? null : value;
}

export function checkDeviceNameLength(name: string | null): void {
  if (name && name.length > MAX_DEVICE_DISPLAY_NAME_LEN) {
    throw new SynapseError(400, `Device display name is too long (max ${MAX_DEVICE_DISPLAY_NAME_LEN})`, 'M_TOO_LARGE');
  }
}

export interface MasApiDeps {
  auth: DelegatedAuth;
  state: StandinState;
  clock: Clock;
  usernames: UsernameContext;
}

export function masRoutes({ auth, state, clock, usernames }: MasApiDeps): Route[] {
  const assertFromMas = (ctx: RequestContext) => {
    if (!auth.isRequestFromMas(ctx)) throw new SynapseError(403, 'This endpoint must only be called by MAS');
  };
  const body = <T>(ctx: RequestContext, spec: ModelSpec): T => validateModel<T>(spec, parseJsonObject(ctx.body));
  const existing = (localpart: string): StandinUser => {
    const user = state.get(localpart);
    if (!user) throw notFound('User not found');
    return user;
  };
  const ok = (status = 200): HandlerResult => ({ status, body: {} });
  const route = (name: string, methods: Route['methods']): Route => ({ pattern: new RegExp(`^/_synapse/mas/${name}$`), methods, wrongMethodStatus: 405 });

  return [
    route('query_user', {
      GET: async (ctx) => {
        assertFromMas(ctx);
        const localpart = asciiQuery(ctx.url, 'localpart');
        if (localpart === undefined) throw new SynapseError(400, 'Missing string query parameter localpart', 'M_MISSING_PARAM');
        const user = existing(localpart);
        return {
          status: 200,
          body: {
            user_id: user.userId,
            display_name: user.displayName,
            avatar_url: user.avatarUrl,
            is_suspended: user.suspended,
            is_deactivated: user.deactivated,
          },
        };
      },
    }),

    route('is_localpart_available', {
      GET: async (ctx) => {
        assertFromMas(ctx);
        const localpart = asciiQuery(ctx.url, 'localpart');
        if (localpart === undefined) throw new SynapseError(400, 'Missing localpart');
        checkUsername(localpart, usernames);
        return ok();
      },
    }),

    route('provision_user', {
      POST: async (ctx) => {
        assertFromMas(ctx);
        const b = body<{
          localpart: string;
          unset_displayname: boolean;
          set_displayname: string | null;
          unset_avatar_url: boolean;
          set_avatar_url: string | null;
          unset_emails: boolean;
          set_emails: string[] | null;
          locked: boolean | null;
        }>(ctx, ProvisionUser);
        let user = state.get(b.localpart);
        const created = !user;
        if (!user) {
          // register_user(by_admin=True): the username rules apply; display name defaults to the localpart.
          checkUsername(b.localpart, usernames);
          user = state.register(b.localpart, b.set_displayname ?? b.localpart, b.set_emails ?? []);
        } else {
          if (b.unset_displayname) applyDisplayname(user, '');
          else if (b.set_displayname !== null) applyDisplayname(user, b.set_displayname);
          if (b.unset_emails) user.emails = new Set();
          else if (b.set_emails !== null) user.emails = new Set(b.set_emails);
        }
        if (b.locked !== null) user.locked = b.locked;
        if (b.unset_avatar_url) applyAvatarUrl(user, '');
        else if (b.set_avatar_url !== null) applyAvatarUrl(user, b.set_avatar_url);
        return ok(created ? 201 : 200);
      },
    }),

    route('delete_user', {
      POST: async (ctx) => {
        assertFromMas(ctx);
        const b = body<{ localpart: string; erase: boolean }>(ctx, DeleteUser);
        state.deactivate(existing(b.localpart), b.erase);
        return ok();
      },
    }),

    route('reactivate_user', {
      POST: async (ctx) => {
        assertFromMas(ctx);
        const b = body<{ localpart: string }>(ctx, LocalpartOnly);
        state.reactivate(existing(b.localpart));
        return ok();
      },
    }),

    route('set_displayname', {
      POST: async (ctx) => {
        assertFromMas(ctx);
        const b = body<{ localpart: string; displayname: string }>(ctx, SetDisplayname);
        applyDisplayname(existing(b.localpart), b.displayname);
        return ok();
      },
    }),

    route('unset_displayname', {
      POST: async (ctx) => {
        assertFromMas(ctx);
        const b = body<{ localpart: string }>(ctx, LocalpartOnly);
        applyDisplayname(existing(b.localpart), '');
        return ok();
      },
    }),

    route('allow_cross_signing_reset', {
      POST: async (ctx) => {
        assertFromMas(ctx);
        const b = body<{ localpart: string }>(ctx, LocalpartOnly);
        const user = existing(b.localpart);
        // Without a master key this is only logged by Synapse; the answer is still 200.
        if (user.masterKey !== null) user.masterKeyReplaceableUntil = clock.now() + CROSS_SIGNING_REPLACEMENT_PERIOD_MS;
        return ok();
      },
    }),

    route('upsert_device', {
      POST: async (ctx) => {
        assertFromMas(ctx);
        const b = body<{ localpart: string; device_id: string; display_name: string | null }>(ctx, UpsertDevice);
        const user = existing(b.localpart);
        checkDeviceNameLength(b.display_name);
        return ok(state.upsertDevice(user, b.device_id, b.display_name) ? 201 : 200);
      },
    }),

    route('delete_device', {
      POST: async (ctx) => {
        assertFromMas(ctx);
        const b = body<{ localpart: string; device_id: string }>(ctx, DeleteDevice);
        state.deleteDevices(existing(b.localpart), [b.device_id]);
        return { status: 204 };
      },
    }),

    route('update_device_display_name', {
      POST: async (ctx) => {
        assertFromMas(ctx);
        const b = body<{ localpart: string; device_id: string; display_name: string }>(ctx, UpdateDeviceName);
        const user = existing(b.localpart);
        checkDeviceNameLength(b.display_name);
        const device = user.devices.get(b.device_id);
        if (!device || device.hidden) throw notFound();
        device.displayName = b.display_name;
        return ok();
      },
    }),

    route('sync_devices', {
      POST: async (ctx) => {
        assertFromMas(ctx);
        const b = body<{ localpart: string; devices: string[] }>(ctx, SyncDevices);
        const user = existing(b.localpart);
        const target = new Set(b.devices);
        // Since 1.156 the dehydrated device is excluded from the reconciliation.
        const current = new Set(
          state
            .visibleDevices(user)
            .filter((d) => !d.dehydrated)
            .map((d) => d.deviceId),
        );
        state.deleteDevices(
          user,
          [...current].filter((d) => !target.has(d)),
        );
        for (const id of target) if (!current.has(id)) state.upsertDevice(user, id, null);
        return ok();
      },
    }),
  ];
}
