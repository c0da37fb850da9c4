import type { DelegatedAuth, Requester } from './delegated-auth.js';
import type { Clock } from './introspection.js';
import { queryString, type RequestContext, type Route } from './http-types.js';
import { applyAvatarUrl, applyDisplayname, checkDeviceNameLength, CROSS_SIGNING_REPLACEMENT_PERIOD_MS } from './mas-api.js';
import { parseJsonObject, parseJsonObjectOrEmpty } from './pydantic-body.js';
import { SynapseError, authError, notFound } from './synapse-error.js';
import type { StandinState, StandinUser } from './standin-state.js';
import { checkUsername, type UsernameContext } from './username.js';

/**
 * The subset of Synapse's admin API (and one client-API call) that MAS's `synapse_legacy` driver uses:
 * docs/contracts/synapse.md §4, behaviour read from synapse/rest/admin/{users,devices}.py at v1.156.0.
 * Requires a server admin: the msc3861 `admin_token`, or any token whose scope has `urn:synapse:admin:*`.
 */

export interface AdminApiDeps {
  auth: DelegatedAuth;
  state: StandinState;
  clock: Clock;
  usernames: UsernameContext;
}

/** `UserID.from_string` + `is_mine`. */
function parseUserId(state: StandinState, raw: string, notMine: string): { localpart: string; userId: string } {
  const m = /^@([^:]*):(.+)$/.exec(raw);
  if (!m) throw new SynapseError(400, 'Invalid user id', 'M_INVALID_PARAM');
  if (m[2] !== state.serverName) throw new SynapseError(400, notMine);
  return { localpart: m[1]!, userId: raw };
}

function userJson(u: StandinUser) {
  return {
    name: u.userId,
    displayname: u.displayName,
    avatar_url: u.avatarUrl,
    threepids: [...u.emails].map((address) => ({ medium: 'email', address })),
    external_ids: [...u.externalIds].map(([auth_provider, external_id]) => ({ auth_provider, external_id })),
    admin: false,
    deactivated: u.deactivated,
    erased: u.erased,
    locked: u.locked,
    suspended: u.suspended,
    shadow_banned: false,
    is_guest: false,
    user_type: null,
  };
}

export function adminRoutes({ auth, state, clock, usernames }: AdminApiDeps): Route[] {
  const requireAdmin = async (ctx: RequestContext): Promise<Requester> => {
    const requester = await auth.getUserByReq(ctx);
    if (!requester.isAdmin) throw authError(403, 'You are not a server admin');
    return requester;
  };
  const localUser = (raw: string, notMine = 'Can only lookup local users') => {
    const id = parseUserId(state, decodeURIComponent(raw), notMine);
    return { ...id, user: state.getById(id.userId) };
  };
  const existingUser = (raw: string, notMine?: string): StandinUser => {
    const { user } = localUser(raw, notMine);
    if (!user) throw notFound('Unknown user');
    return user;
  };

  return [
    {
      pattern: /^\/_synapse\/admin\/v1\/username_available$/,
      methods: {
        GET: async (ctx) => {
          await requireAdmin(ctx);
          const username = queryString(ctx.url, 'username');
          if (username === undefined) throw new SynapseError(400, 'Missing string query parameter username', 'M_MISSING_PARAM');
          if (/[^\x00-\x7f]/.test(username)) throw new SynapseError(400, "Query parameter 'username' must be ascii");
          checkUsername(username, usernames);
          return { status: 200, body: { available: true } };
        },
      },
    },
    {
      pattern: /^\/_synapse\/admin\/v2\/users\/(?<user>[^/]*)$/,
      methods: {
        GET: async (ctx) => {
          await requireAdmin(ctx);
          const { user } = localUser(ctx.params.user!, 'Can only look up local users');
          if (!user) throw notFound('User not found');
          return { status: 200, body: userJson(user) };
        },
        PUT: async (ctx) => {
          await requireAdmin(ctx);
          const raw = decodeURIComponent(ctx.params.user!);
          const m = /^@([^:]*):(.+)$/.exec(raw);
          if (!m) throw new SynapseError(400, 'Invalid user id', 'M_INVALID_PARAM');
          const body = parseJsonObject(ctx.body);
          if (m[2] !== state.serverName) throw new SynapseError(400, 'This endpoint can only be used with local users');
          const localpart = m[1]!;
          let user = state.getById(raw);

          const threepids = body.threepids as { medium?: unknown; address?: unknown }[] | null | undefined;
          if (threepids != null) {
            for (const t of threepids) {
              const missing = ['medium', 'address'].filter((k) => !(k in t));
              if (missing.length) throw new SynapseError(400, `Missing params: [${missing.map((k) => `'${k}'`).join(', ')}]`, 'M_MISSING_PARAM');
            }
          }
          const externalIds = body.external_ids as { auth_provider?: unknown; external_id?: unknown }[] | null | undefined;
          if (externalIds != null) {
            for (const e of externalIds) {
              const missing = ['auth_provider', 'external_id'].filter((k) => !(k in e));
              if (missing.length) throw new SynapseError(400, `Missing params: [${missing.map((k) => `'${k}'`).join(', ')}]`, 'M_MISSING_PARAM');
            }
          }
          const deactivate = body.deactivated ?? false;
          if (typeof deactivate !== 'boolean') throw new SynapseError(400, "'deactivated' parameter is not of type boolean");
          const lock = body.locked ?? false;
          if (typeof lock !== 'boolean') throw new SynapseError(400, "'locked' parameter is not of type boolean");
          if (deactivate && lock) throw new SynapseError(400, "An user can't be deactivated and locked");
          const displayname = body.displayname;
          const claimExternalIds = (u: StandinUser) => {
            if (externalIds == null) return;
            for (const e of externalIds) {
              const owner = [...state.users.values()].find((o) => o !== u && o.externalIds.get(String(e.auth_provider)) === String(e.external_id));
              if (owner) throw new SynapseError(409, 'External id is already in use.');
            }
            u.externalIds = new Map(externalIds.map((e) => [String(e.auth_provider), String(e.external_id)]));
          };

          if (user) {
            if ('displayname' in body) {
              if (typeof displayname !== 'string') throw new SynapseError(400, "'displayname' must be a string", 'M_INVALID_PARAM');
              applyDisplayname(user, displayname);
            }
            if (threepids != null) user.emails = new Set(threepids.filter((t) => t.medium === 'email').map((t) => String(t.address)));
            claimExternalIds(user);
            if ('avatar_url' in body) applyAvatarUrl(user, String(body.avatar_url ?? ''));
            if ('deactivated' in body) {
              if (deactivate && !user.deactivated) state.deactivate(user, false);
              else if (!deactivate && user.deactivated) state.reactivate(user);
            }
            if ('locked' in body) user.locked = lock as boolean;
            return { status: 200, body: userJson(user) };
          }
          checkUsername(localpart, usernames);
          user = state.register(localpart, typeof displayname === 'string' ? displayname : localpart, []);
          if (threepids != null) user.emails = new Set(threepids.filter((t) => t.medium === 'email').map((t) => String(t.address)));
          claimExternalIds(user);
          if (typeof body.avatar_url === 'string') applyAvatarUrl(user, body.avatar_url);
          return { status: 201, body: userJson(user) };
        },
      },
    },
    {
      pattern: /^\/_synapse\/admin\/v2\/users\/(?<user>[^/]*)\/devices$/,
      methods: {
        GET: async (ctx) => {
          await requireAdmin(ctx);
          const user = existingUser(ctx.params.user!);
          const visible = state.visibleDevices(user);
          const hasDehydrated = visible.some((d) => d.dehydrated);
          const devices = visible.map((d) => ({
            device_id: d.deviceId,
            display_name: d.displayName,
            last_seen_ip: null,
            last_seen_ts: null,
            last_seen_user_agent: null,
            user_id: user.userId,
            ...(hasDehydrated ? { dehydrated: d.dehydrated } : {}),
          }));
          return { status: 200, body: { devices, total: devices.length } };
        },
        POST: async (ctx) => {
          await requireAdmin(ctx);
          const user = existingUser(ctx.params.user!, 'Can only create devices for local users');
          const body = parseJsonObject(ctx.body);
          const deviceId = body.device_id;
          if (!deviceId) throw new SynapseError(400, 'Missing device_id');
          if (typeof deviceId !== 'string') throw new SynapseError(400, 'device_id must be a string');
          state.upsertDevice(user, deviceId, null);
          return { status: 201, body: {} };
        },
      },
    },
    {
      pattern: /^\/_synapse\/admin\/v2\/users\/(?<user>[^/]*)\/devices\/(?<device>[^/]*)$/,
      methods: {
        GET: async (ctx) => {
          await requireAdmin(ctx);
          const user = existingUser(ctx.params.user!);
          const d = user.devices.get(decodeURIComponent(ctx.params.device!));
          if (!d || d.hidden) throw notFound('No device found');
          return { status: 200, body: { device_id: d.deviceId, display_name: d.displayName, user_id: user.userId } };
        },
        PUT: async (ctx) => {
          await requireAdmin(ctx);
          const user = existingUser(ctx.params.user!);
          const body = parseJsonObjectOrEmpty(ctx.body);
          const name = body.display_name;
          if (typeof name === 'string') checkDeviceNameLength(name);
          const d = user.devices.get(decodeURIComponent(ctx.params.device!));
          if (!d || d.hidden) throw notFound();
          if (typeof name === 'string') d.displayName = name;
          return { status: 200, body: {} };
        },
        DELETE: async (ctx) => {
          await requireAdmin(ctx);
          const user = existingUser(ctx.params.user!);
          state.deleteDevices(user, [decodeURIComponent(ctx.params.device!)]);
          return { status: 200, body: {} };
        },
      },
    },
    {
      pattern: /^\/_synapse\/admin\/v2\/users\/(?<user>[^/]*)\/delete_devices$/,
      methods: {
        POST: async (ctx) => {
          await requireAdmin(ctx);
          const user = existingUser(ctx.params.user!);
          const body = parseJsonObject(ctx.body);
          if (!('devices' in body)) throw new SynapseError(400, "Missing params: ['devices']", 'M_MISSING_PARAM');
          const devices = body.devices;
          if (!Array.isArray(devices)) throw new SynapseError(400, 'devices must be a list');
          state.deleteDevices(user, devices.map(String));
          return { status: 200, body: {} };
        },
      },
    },
    {
      pattern: /^\/_synapse\/admin\/v1\/deactivate\/(?<user>[^/]*)$/,
      methods: {
        POST: async (ctx) => {
          await requireAdmin(ctx);
          const body = parseJsonObjectOrEmpty(ctx.body);
          const erase = body.erase ?? false;
          if (typeof erase !== 'boolean') throw new SynapseError(400, "Param 'erase' must be a boolean, if given", 'M_BAD_JSON');
          const { user } = localUser(ctx.params.user!, 'Can only deactivate local users');
          if (!user) throw notFound('User not found');
          state.deactivate(user, erase);
          return { status: 200, body: { id_server_unbind_result: 'success' } };
        },
      },
    },
    {
      pattern: /^\/_synapse\/admin\/v1\/users\/(?<user>[^/]*)\/_allow_cross_signing_replacement_without_uia$/,
      methods: {
        POST: async (ctx) => {
          await requireAdmin(ctx);
          const { user } = localUser(ctx.params.user!, 'User not found');
          if (!user || user.masterKey === null) throw notFound('User has no master cross-signing key');
          user.masterKeyReplaceableUntil = clock.now() + CROSS_SIGNING_REPLACEMENT_PERIOD_MS;
          return { status: 200, body: { updatable_without_uia_before_ms: user.masterKeyReplaceableUntil } };
        },
      },
    },
  ];
}
