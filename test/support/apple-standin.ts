import { createHash, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey } from 'jose';

/**
 * A Sign in with Apple stand-in (appleid.apple.com cannot be reached from the tests). It follows
 * Apple's documentation field by field ("Sign in with Apple REST API", "Request an authorization to
 * the Sign in with Apple server", "Generate and validate tokens", "Creating a client secret",
 * "Authenticating users with Sign in with Apple") and Apple's published discovery document:
 *
 * - `GET /.well-known/openid-configuration`: Apple's document (issuer, `/auth/authorize`,
 *   `/auth/token`, `/auth/revoke`, `/auth/keys`, response modes query/fragment/form_post,
 *   `subject_types_supported` pairwise, RS256, scopes openid/email/name,
 *   `token_endpoint_auth_methods_supported` client_secret_post only, Apple's claims list). No
 *   userinfo endpoint.
 * - `GET /auth/authorize` (client_id, redirect_uri, response_type `code`, scope, response_mode,
 *   state, nonce): `name` or `email` in the scope requires `response_mode=form_post` (else
 *   `invalid_request`). The test picks the Apple ID on a form (Apple's own page needs JavaScript);
 *   the answer is an auto-submitting HTML form POSTing `code`, `state` and — on the person's FIRST
 *   authorization of this client only, when `name` or `email` was asked — `user`, the JSON
 *   `{"name":{"firstName","lastName"},"email"}`. Cancelling posts `error=user_cancelled_authorize`.
 * - `POST /auth/token` (client_id, client_secret, code, grant_type, redirect_uri): the client
 *   secret is checked as Apple does: a JWT with header `alg` ES256 and the `kid` of a key
 *   registered for the team, verified with that key's public part, `iss` = team id, `sub` =
 *   client_id, `aud` = https://appleid.apple.com, `iat` not in the future, `exp` not passed and at
 *   most 15777000 s after `iat`; otherwise 400 `{"error":"invalid_client"}`. A code is single use
 *   and lives five minutes (`invalid_grant`). Success: `{access_token, token_type: "Bearer",
 *   expires_in: 3600, refresh_token, id_token}`.
 * - The ID token (RS256, `kid`): `iss`, `aud` (client id), `exp`, `iat`, `sub` (team-scoped,
 *   `000123.<hex>.0123`), `nonce`, `nonce_supported: true`, `at_hash`, `email`, `email_verified`
 *   and `is_private_email` as the strings "true"/"false" (as Apple has sent them), `auth_time`,
 *   `real_user_status` 2. Never a name.
 */

export interface AppleId {
  /** The Apple ID the test picks on the authorize form. */
  appleId: string;
  firstName: string;
  lastName: string;
  email: string;
  isPrivateEmail?: boolean;
}

export interface AppleStandin {
  url: string;
  /** A developer team's Services ID with its return URL, and the public key of the team's Sign in with Apple key `keyId`. */
  addClient(c: { clientId: string; teamId: string; redirectUri: string; keyId: string; publicKey: KeyObject | string }): void;
  addUser(u: AppleId): void;
  /** Every client secret the token endpoint received, decoded (header and claims), with the verdict. */
  clientSecrets: { header: Record<string, unknown>; claims: Record<string, unknown>; accepted: boolean; reason?: string }[];
  /** Every form_post answer sent back to the app (the fields as posted). */
  posted: Record<string, string>[];
  requests: { method: string; path: string }[];
  close(): Promise<void>;
}

interface Code {
  clientId: string;
  appleId: string;
  redirectUri: string;
  nonce?: string;
  expiresAt: number;
}

const AUDIENCE = 'https://appleid.apple.com';
const MAX_SECRET_LIFETIME = 15_777_000;
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

export async function startAppleStandin(): Promise<AppleStandin> {
  const clients = new Map<string, { teamId: string; redirectUri: string; keys: Map<string, KeyObject> }>();
  const users = new Map<string, AppleId & { sub: string }>();
  const codes = new Map<string, Code>();
  /** (client, Apple ID) pairs that authorized once: `user` is posted only the first time. */
  const authorized = new Set<string>();
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const kid = randomBytes(5).toString('hex').toUpperCase();
  const jwk = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' };
  let base = '';

  const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8' }).end(JSON.stringify(body));

  function discovery() {
    return {
      issuer: base,
      authorization_endpoint: `${base}/auth/authorize`,
      token_endpoint: `${base}/auth/token`,
      revocation_endpoint: `${base}/auth/revoke`,
      jwks_uri: `${base}/auth/keys`,
      response_types_supported: ['code'],
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid', 'email', 'name'],
      token_endpoint_auth_methods_supported: ['client_secret_post'],
      claims_supported: ['aud', 'email', 'email_verified', 'exp', 'iat', 'is_private_email', 'iss', 'nonce', 'nonce_supported', 'real_user_status', 'sub', 'transfer_sub'],
    };
  }

  /** Apple's form_post answer: an HTML page whose form posts the fields to the return URL. */
  function formPost(res: ServerResponse, redirectUri: string, fields: Record<string, string>) {
    standin.posted.push(fields);
    const inputs = Object.entries(fields)
      .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
      .join('');
    res
      .writeHead(200, { 'content-type': 'text/html;charset=UTF-8' })
      .end(`<!doctype html><html><body onload="document.forms[0].submit()"><form method="post" action="${esc(redirectUri)}">${inputs}<noscript><button type="submit">Continue</button></noscript></form></body></html>`);
  }

  async function authorize(req: IncomingMessage, res: ServerResponse, url: URL) {
    const q = req.method === 'POST' ? new URLSearchParams(await readBody(req)) : url.searchParams;
    const clientId = q.get('client_id') ?? '';
    const client = clients.get(clientId);
    const redirectUri = q.get('redirect_uri') ?? '';
    if (!client || redirectUri !== client.redirectUri) return res.writeHead(400, { 'content-type': 'text/html' }).end('<p>invalid_client</p>');
    if (q.get('response_type') !== 'code') return res.writeHead(400, { 'content-type': 'text/html' }).end('<p>unsupported_response_type</p>');
    const scopes = (q.get('scope') ?? '').split(' ').filter(Boolean);
    const wantsProfile = scopes.includes('name') || scopes.includes('email');
    if (wantsProfile && q.get('response_mode') !== 'form_post')
      return res.writeHead(400, { 'content-type': 'text/html' }).end('<p>invalid_request: response_mode must be form_post when name or email scope is requested.</p>');
    const state = q.get('state');
    if (req.method === 'GET') {
      const hidden = [...q.entries()].map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`).join('');
      return res
        .writeHead(200, { 'content-type': 'text/html;charset=UTF-8' })
        .end(
          `<!doctype html><title>Sign in with Apple</title><main><form method="post" action="${base}/auth/authorize">${hidden}<input name="apple_id" value=""><button type="submit" name="continue" value="1">Continue</button><button type="submit" name="cancel" value="1">Cancel</button></form></main>`,
        );
    }
    if (q.get('cancel')) return formPost(res, redirectUri, { error: 'user_cancelled_authorize', ...(state ? { state } : {}) });
    const user = users.get(q.get('apple_id') ?? '');
    if (!user) return res.writeHead(200, { 'content-type': 'text/html' }).end('<main><p>Your Apple ID or password was incorrect.</p></main>');
    const code = `c${randomBytes(16).toString('hex')}.0.${randomBytes(3).toString('hex')}.${randomBytes(16).toString('base64url')}`;
    codes.set(code, { clientId, appleId: user.appleId, redirectUri, expiresAt: Date.now() + 5 * 60_000, ...(q.get('nonce') ? { nonce: q.get('nonce')! } : {}) });
    const fields: Record<string, string> = { ...(state ? { state } : {}), code };
    const pair = `${clientId}\n${user.appleId}`;
    if (wantsProfile && !authorized.has(pair)) {
      fields.user = JSON.stringify({ name: { firstName: user.firstName, lastName: user.lastName }, email: user.email });
    }
    authorized.add(pair);
    formPost(res, redirectUri, fields);
  }

  /** Apple's client secret rules; the reason of a refusal (Apple answers only `invalid_client`). */
  async function checkClientSecret(clientId: string, secret: string): Promise<string | undefined> {
    const client = clients.get(clientId);
    if (!client) return 'unknown client_id';
    let header: Record<string, unknown>;
    try {
      header = decodeProtectedHeader(secret) as Record<string, unknown>;
    } catch {
      return 'not a JWT';
    }
    if (header.alg !== 'ES256') return 'alg is not ES256';
    const key = client.keys.get(String(header.kid));
    if (!key) return 'kid is not a key of the team';
    try {
      const { payload } = await jwtVerify(secret, key, { algorithms: ['ES256'], issuer: client.teamId, audience: AUDIENCE, subject: clientId, requiredClaims: ['iat', 'exp'] });
      const now = Math.floor(Date.now() / 1000);
      if (payload.iat! > now + 60) return 'iat in the future';
      if (payload.exp! - payload.iat! > MAX_SECRET_LIFETIME) return 'exp more than 15777000 s after iat';
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  }

  async function token(req: IncomingMessage, res: ServerResponse) {
    const form = new URLSearchParams(await readBody(req));
    const clientId = form.get('client_id') ?? '';
    const secret = form.get('client_secret') ?? '';
    const reason = await checkClientSecret(clientId, secret);
    let header: Record<string, unknown> = {};
    let claims: Record<string, unknown> = {};
    try {
      header = decodeProtectedHeader(secret) as Record<string, unknown>;
      claims = JSON.parse(Buffer.from(secret.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
    } catch {
      /* recorded as received */
    }
    standin.clientSecrets.push({ header, claims, accepted: !reason, ...(reason ? { reason } : {}) });
    if (reason) return json(res, 400, { error: 'invalid_client' });
    if (form.get('grant_type') !== 'authorization_code') return json(res, 400, { error: 'unsupported_grant_type' });
    const code = codes.get(form.get('code') ?? '');
    codes.delete(form.get('code') ?? '');
    if (!code || code.expiresAt < Date.now() || code.clientId !== clientId || code.redirectUri !== form.get('redirect_uri')) return json(res, 400, { error: 'invalid_grant' });
    const user = users.get(code.appleId)!;
    const now = Math.floor(Date.now() / 1000);
    const accessToken = `a${randomBytes(16).toString('hex')}.0.${randomBytes(3).toString('hex')}.${randomBytes(16).toString('base64url')}`;
    const atHash = createHash('sha256').update(accessToken).digest().subarray(0, 16).toString('base64url');
    const idToken = await new SignJWT({
      iss: base,
      aud: clientId,
      exp: now + 600,
      iat: now,
      sub: user.sub,
      ...(code.nonce ? { nonce: code.nonce } : {}),
      at_hash: atHash,
      email: user.email,
      email_verified: 'true',
      is_private_email: user.isPrivateEmail ? 'true' : 'false',
      auth_time: now,
      nonce_supported: true,
      real_user_status: 2,
    })
      .setProtectedHeader({ kid, alg: 'RS256' })
      .sign(privateKey as CryptoKey);
    json(res, 200, {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: 3600,
      refresh_token: `r${randomBytes(16).toString('hex')}.0.${randomBytes(3).toString('hex')}.${randomBytes(16).toString('base64url')}`,
      id_token: idToken,
    });
  }

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', base);
    standin.requests.push({ method: req.method ?? 'GET', path: url.pathname });
    try {
      if (url.pathname === '/.well-known/openid-configuration') return json(res, 200, discovery());
      if (url.pathname === '/auth/keys') return json(res, 200, { keys: [jwk] });
      if (url.pathname === '/auth/authorize') return await authorize(req, res, url);
      if (url.pathname === '/auth/token' && req.method === 'POST') return await token(req, res);
      json(res, 404, { error: 'not_found' });
    } catch (e) {
      json(res, 500, { error: 'server_error', error_description: (e as Error).message });
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const standin: AppleStandin = {
    url: base,
    clientSecrets: [],
    posted: [],
    requests: [],
    addClient: (c) => {
      const existing = clients.get(c.clientId);
      const keys = existing?.keys ?? new Map<string, KeyObject>();
      keys.set(c.keyId, typeof c.publicKey === 'string' ? createPublicKey(c.publicKey) : c.publicKey);
      clients.set(c.clientId, { teamId: c.teamId, redirectUri: c.redirectUri, keys });
    },
    addUser: (u) => users.set(u.appleId, { ...u, sub: `000${Math.floor(Math.random() * 900 + 100)}.${randomBytes(16).toString('hex')}.${Math.floor(Math.random() * 9000 + 1000)}` }),
    close: () => new Promise((r) => server.close(() => r())),
  };
  return standin;
}
