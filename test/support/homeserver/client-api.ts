import { randomBytes } from 'node:crypto';
import type { DelegatedAuth } from './delegated-auth.js';
import { getAccessToken } from './delegated-auth.js';
import type { Clock } from './introspection.js';
import { queryString, type Route } from './http-types.js';
import { applyDisplayname } from './mas-api.js';
import { parseJsonObject } from './pydantic-body.js';
import { SynapseError, authError, invalidToken, notFound, unrecognized } from './synapse-error.js';
import type { StandinState } from './standin-state.js';

/**
 * The client-server surface Synapse keeps when auth is delegated (docs/contracts/synapse.md §5.1):
 * whoami, auth metadata / issuer, the client well-known, devices, profile display name,
 * appservice-only registration and the cross-signing upload gate. Everything else under
 * /_matrix/ (including /login, /logout, /refresh) is 404 M_UNRECOGNIZED.
 */

/** Synapse's client_patterns: r0, v3 and unstable prefixes. */
const client = (path: string) => new RegExp(`^/_matrix/client/(?:r0|v3|unstable)${path}$`);

/** auth_metadata / auth_issuer responses (synapse/rest/client/auth_metadata.py). */
const AUTH_METADATA_CACHE = 'public, max-age=600, s-maxage=3600, stale-while-revalidate=600';

export interface ClientApiDeps {
  auth: DelegatedAuth;
  state: StandinState;
  clock: Clock;
  publicBaseUrl: () => string;
}

/** `media.max_upload_size` default (synapse/config/repository.py): 50M. */
const MAX_UPLOAD_SIZE = 50 * 1024 * 1024;

export function clientRoutes({ auth, state, clock, publicBaseUrl }: ClientApiDeps): Route[] {
  return [
    {
      // synapse/rest/media/upload_resource.py (UploadServlet, v3 and r0): any authenticated user
      // (the token introspected as every client request; a requester without a device is fine),
      // the body is the file, Content-Length over max_upload_size 413 M_TOO_LARGE, Content-Type
      // default application/octet-stream, `filename` optional; 200 {"content_uri": "mxc://…"}.
      pattern: /^\/_matrix\/media\/(?:v3|r0)\/upload$/,
      methods: {
        POST: async (ctx) => {
          const r = await auth.getUserByReq(ctx);
          const length = Number(ctx.req.headers['content-length'] ?? ctx.body.length);
          if (length > MAX_UPLOAD_SIZE) throw new SynapseError(413, 'Upload request body is too large', 'M_TOO_LARGE');
          const mediaId = randomBytes(18).toString('base64url').replace(/[-_]/g, 'x').slice(0, 24);
          const uri = `mxc://${state.serverName}/${mediaId}`;
          state.media.set(uri, {
            mediaId,
            bytes: Buffer.from(ctx.body),
            contentType: String(ctx.req.headers['content-type'] ?? 'application/octet-stream'),
            filename: queryString(ctx.url, 'filename') ?? null,
            uploader: r.userId,
          });
          return { status: 200, body: { content_uri: uri } };
        },
      },
    },
    {
      pattern: /^\/_matrix\/client\/versions$/,
      methods: {
        GET: async () => ({
          status: 200,
          body: {
            versions: ['r0.5.0', 'r0.6.0', 'r0.6.1', 'v1.1', 'v1.2', 'v1.3', 'v1.4', 'v1.5', 'v1.6', 'v1.7', 'v1.8', 'v1.9', 'v1.10', 'v1.11', 'v1.12', 'v1.13', 'v1.14', 'v1.15'],
            unstable_features: { 'org.matrix.msc2965': true, 'org.matrix.msc3861': true },
          },
        }),
      },
    },
    {
      pattern: client('/account/whoami'),
      methods: {
        GET: async (ctx) => {
          const r = await auth.getUserByReq(ctx);
          return { status: 200, body: { user_id: r.userId, is_guest: false, ...(r.deviceId !== null ? { device_id: r.deviceId } : {}) } };
        },
      },
    },
    {
      pattern: /^\/_matrix\/client\/(?:v1\/auth_metadata|unstable\/org\.matrix\.msc2965\/auth_metadata)$/,
      methods: {
        GET: async () => ({ status: 200, body: await auth.metadata(), headers: { 'Cache-Control': AUTH_METADATA_CACHE } }),
      },
    },
    {
      pattern: /^\/_matrix\/client\/unstable\/org\.matrix\.msc2965\/auth_issuer$/,
      methods: {
        GET: async () => ({ status: 200, body: { issuer: await auth.issuer() }, headers: { 'Cache-Control': AUTH_METADATA_CACHE } }),
      },
    },
    {
      pattern: /^\/\.well-known\/matrix\/client$/,
      methods: {
        GET: async () => {
          const account = await auth.accountManagementUrl();
          return {
            status: 200,
            body: {
              'm.homeserver': { base_url: publicBaseUrl() },
              'org.matrix.msc2965.authentication': { issuer: await auth.issuer(), ...(account !== undefined ? { account } : {}) },
            },
          };
        },
      },
    },
    {
      pattern: client('/devices'),
      methods: {
        GET: async (ctx) => {
          const r = await auth.getUserByReq(ctx);
          const user = state.getById(r.userId);
          const devices = user ? state.visibleDevices(user).map((d) => ({ device_id: d.deviceId, display_name: d.displayName, last_seen_ip: null, last_seen_ts: null })) : [];
          return { status: 200, body: { devices } };
        },
      },
    },
    {
      pattern: client('/profile/(?<user>[^/]*)/displayname'),
      methods: {
        GET: async (ctx) => {
          const user = state.getById(decodeURIComponent(ctx.params.user!));
          if (!user) throw notFound('Profile was not found');
          return { status: 200, body: user.displayName === null ? {} : { displayname: user.displayName } };
        },
        PUT: async (ctx) => {
          const r = await auth.getUserByReq(ctx);
          const target = decodeURIComponent(ctx.params.user!);
          const m = /^@([^:]*):(.+)$/.exec(target);
          if (!m) throw new SynapseError(400, 'Invalid user id', 'M_INVALID_PARAM');
          if (m[2] !== state.serverName) throw new SynapseError(400, 'User is not hosted on this homeserver');
          if (!r.isAdmin && r.userId !== target) throw authError(400, "Cannot set another user's displayname");
          const body = parseJsonObject(ctx.body);
          if (!('displayname' in body)) throw new SynapseError(400, "Missing key 'displayname'", 'M_MISSING_PARAM');
          if (typeof body.displayname !== 'string') throw new SynapseError(400, "'displayname' must be a string", 'M_INVALID_PARAM');
          const user = state.getById(target);
          if (!user) throw notFound('Profile was not found');
          applyDisplayname(user, body.displayname);
          return { status: 200, body: {} };
        },
      },
    },
    {
      pattern: client('/register'),
      methods: {
        POST: async (ctx) => {
          const body = parseJsonObject(ctx.body);
          if (body.type !== 'm.login.application_service') {
            throw new SynapseError(403, 'Registration has been disabled. Only m.login.application_service registrations are allowed.', 'M_FORBIDDEN');
          }
          if (!body.inhibit_login) {
            throw new SynapseError(400, 'This server uses OAuth2, so the inhibit_login parameter must be set to true for appservice registrations.', 'IO.ELEMENT.MSC4190.M_APPSERVICE_LOGIN_UNSUPPORTED');
          }
          const kind = queryString(ctx.url, 'kind') ?? 'user';
          if (kind === 'guest') throw new SynapseError(403, 'Guest access is disabled');
          if (kind !== 'user') throw unrecognized(400);
          const username = body.username;
          if (typeof username !== 'string' || username.length > 512) throw new SynapseError(400, 'Invalid username');
          const token = getAccessToken(ctx);
          const as = auth.config.appservices.find((a) => a.asToken === token);
          if (!as) throw invalidToken('Unrecognised access token');
          const userId = state.userId(username);
          if (username !== as.senderLocalpart && !(as.exclusiveUsers ?? []).some((re) => re.test(userId))) {
            throw new SynapseError(400, 'Invalid user localpart for this application service.', 'M_EXCLUSIVE');
          }
          if (state.getById(userId)) throw new SynapseError(400, 'User ID already taken.', 'M_USER_IN_USE');
          state.register(username, username);
          return { status: 200, body: { user_id: userId } };
        },
      },
    },
    {
      pattern: /^\/_matrix\/client\/v3\/keys\/device_signing\/upload$/,
      methods: {
        POST: async (ctx) => {
          const r = await auth.getUserByReq(ctx);
          const body = parseJsonObject(ctx.body);
          const user = state.getById(r.userId);
          if (!user) throw notFound('User not found');
          const newMaster = body.master_key === undefined ? null : JSON.stringify(body.master_key);
          if (newMaster === null || newMaster === user.masterKey) return { status: 200, body: {} };
          const replaceable = user.masterKeyReplaceableUntil !== null && clock.now() < user.masterKeyReplaceableUntil;
          if (user.masterKey !== null && !r.appserviceId && !replaceable) {
            const url = `${await auth.accountManagementUrl()}?action=org.matrix.cross_signing_reset`;
            return {
              status: 401,
              body: {
                session: 'dummy',
                flows: [{ stages: ['m.oauth'] }, { stages: ['org.matrix.cross_signing_reset'] }],
                params: { 'm.oauth': { url }, 'org.matrix.cross_signing_reset': { url } },
                msg: `To reset your end-to-end encryption cross-signing identity, you first need to approve it at ${url} and then try again.`,
              },
            };
          }
          user.masterKey = newMaster;
          return { status: 200, body: {} };
        },
      },
    },
    {
      pattern: /^\/_matrix\/client\/v3\/auth\/(?<stage>m\.oauth|org\.matrix\.cross_signing_reset)\/fallback\/web$/,
      methods: {
        GET: async () => {
          const url = `${await auth.accountManagementUrl()}?action=org.matrix.cross_signing_reset`;
          return { status: 302, headers: { Location: url } };
        },
      },
    },
  ];
}
