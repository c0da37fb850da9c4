import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';

/**
 * A Microsoft Entra ID stand-in (Entra cannot be reached from the tests), for multi-tenant apps. It
 * follows Microsoft's documented v2.0 endpoints field by field (learn.microsoft.com, "OpenID Connect
 * on the Microsoft identity platform", "ID token claims reference", "OAuth 2.0 authorization code
 * flow"), laid out under one origin as login.microsoftonline.com is:
 *
 * - `GET /{tenant}/v2.0/.well-known/openid-configuration` for `common`, `organizations` and each
 *   tenant id. For the shared endpoints the `issuer` is the template
 *   `<origin>/{tenantid}/v2.0` (literally); for a tenant, that tenant's issuer. Endpoints
 *   `/{tenant}/oauth2/v2.0/{authorize,token,logout}`, `jwks_uri` `/{tenant}/discovery/v2.0/keys`,
 *   `response_modes_supported` query/fragment/form_post, `subject_types_supported` pairwise,
 *   RS256 only, `token_endpoint_auth_methods_supported` client_secret_post, private_key_jwt,
 *   client_secret_basic; no `authorization_response_iss_parameter_supported` (Entra sends no `iss`
 *   with the code) and no `code_challenge_methods_supported` (PKCE is accepted all the same).
 * - `GET …/authorize`: the account picker (a form: the test chooses the account); back to the
 *   redirect URI with `code`, `state` and `session_state`.
 * - `POST …/token`: client_secret_basic or _post, the code single use, PKCE S256 checked when the
 *   authorization request carried a challenge; answers `{token_type: "Bearer", scope, expires_in,
 *   ext_expires_in, access_token, id_token}`. Errors `{error, error_description, error_codes,
 *   timestamp, trace_id, correlation_id}` (invalid_grant AADSTS70008/AADSTS501481,
 *   invalid_client AADSTS7000215).
 * - The ID token (v2.0, RS256, `kid` header): `aud` client id, `iss` `<origin>/<tid>/v2.0`, `iat`,
 *   `nbf`, `exp` (one hour), `name`, `preferred_username`, `email` when the account has one,
 *   `nonce`, `oid`, `sub` (pairwise per app), `tid`, `sid`, `uti`, `rh`, `ver: "2.0"`.
 *
 * One knob beyond Entra: `forgeIssuerTenant` signs the next ID token with the real key but another
 * tenant's `iss` than its `tid` (a token no real Entra issues), for the refusal test.
 */

export interface EntraAccount {
  /** The sign-in name, e.g. alice@contoso.example. */
  username: string;
  name: string;
  tenantId: string;
  email?: string;
}

export interface EntraStandin {
  url: string;
  addApp(app: { clientId: string; clientSecret: string; redirectUri: string }): void;
  addAccount(a: EntraAccount): void;
  /** The next token's `iss` names this tenant instead of the account's (its `tid` stays). */
  forgeIssuerTenant?: string;
  requests: { method: string; path: string }[];
  close(): Promise<void>;
}

interface Code {
  clientId: string;
  username: string;
  redirectUri: string;
  nonce?: string;
  challenge?: string;
  scope: string;
  expiresAt: number;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

export async function startEntraStandin(): Promise<EntraStandin> {
  const apps = new Map<string, { clientSecret: string; redirectUri: string }>();
  const accounts = new Map<string, EntraAccount & { oid: string }>();
  const codes = new Map<string, Code>();
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const kid = randomBytes(8).toString('hex');
  const jwk = { kty: 'RSA', use: 'sig', kid, x5t: kid, ...(await exportJWK(publicKey)), issuer: '' };
  let base = '';

  const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store, no-cache' }).end(JSON.stringify(body));
  const aadError = (res: ServerResponse, status: number, error: string, code: number, description: string) =>
    json(res, status, {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${randomUUID()} Correlation ID: ${randomUUID()} Timestamp: ${new Date().toISOString()}`,
      error_codes: [code],
      timestamp: new Date()
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z'),
      trace_id: randomUUID(),
      correlation_id: randomUUID(),
    });

  function discovery(tenant: string) {
    const t = tenant;
    return {
      token_endpoint: `${base}/${t}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/${t}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: GUID.test(t) ? `${base}/${t}/v2.0` : `${base}/{tenantid}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${base}/oidc/userinfo`,
      authorization_endpoint: `${base}/${t}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/${t}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/${t}/oauth2/v2.0/logout`,
      claims_supported: [
        'sub',
        'iss',
        'cloud_instance_name',
        'cloud_instance_host_name',
        'cloud_graph_host_name',
        'msgraph_host',
        'aud',
        'exp',
        'iat',
        'auth_time',
        'acr',
        'nonce',
        'preferred_username',
        'name',
        'tid',
        'ver',
        'at_hash',
        'c_hash',
        'email',
      ],
      kerberos_endpoint: `${base}/${t}/kerberos`,
      tenant_region_scope: null,
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
      rbac_url: 'https://pas.windows.net',
    };
  }

  function authorizePage(res: ServerResponse, tenant: string, q: URLSearchParams) {
    const hidden = [...q.entries()].map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`).join('');
    const options = [...accounts.values()].map((a) => `<option value="${esc(a.username)}">${esc(a.name)} (${esc(a.username)})</option>`).join('');
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(
        `<!doctype html><title>Sign in to your account</title><main><h1>Pick an account</h1><form method="post" action="${base}/${esc(tenant)}/oauth2/v2.0/authorize">${hidden}<select name="account">${options}</select><button type="submit" name="continue" value="1">Continue</button></form></main>`,
      );
  }

  async function authorize(req: IncomingMessage, res: ServerResponse, tenant: string, url: URL) {
    const q = req.method === 'POST' ? new URLSearchParams(await readBody(req)) : url.searchParams;
    const clientId = q.get('client_id') ?? '';
    const app = apps.get(clientId);
    if (!app) return res.writeHead(400, { 'content-type': 'text/html' }).end(`AADSTS700016: Application with identifier '${esc(clientId)}' was not found in the directory.`);
    const redirectUri = q.get('redirect_uri') ?? '';
    if (redirectUri !== app.redirectUri)
      return res.writeHead(400, { 'content-type': 'text/html' }).end('AADSTS50011: The redirect URI specified in the request does not match the redirect URIs configured for the application.');
    if (q.get('response_type') !== 'code') {
      const back = new URL(redirectUri);
      back.searchParams.set('error', 'unsupported_response_type');
      return res.writeHead(302, { location: back.href }).end();
    }
    const account = q.get('account');
    if (req.method === 'GET' || !account) return authorizePage(res, tenant, q);
    const a = accounts.get(account);
    if (!a) return authorizePage(res, tenant, q);
    // `organizations` refuses personal accounts, a tenant endpoint any other tenant's accounts (AADSTS50020).
    if (GUID.test(tenant) && a.tenantId !== tenant) return res.writeHead(400, { 'content-type': 'text/html' }).end('AADSTS50020: User account from identity provider does not exist in tenant.');
    const code = `1.A${randomBytes(24).toString('base64url')}`;
    codes.set(code, {
      clientId,
      username: a.username,
      redirectUri,
      scope: q.get('scope') ?? 'openid',
      expiresAt: Date.now() + 10 * 60_000,
      ...(q.get('nonce') ? { nonce: q.get('nonce')! } : {}),
      ...(q.get('code_challenge') ? { challenge: q.get('code_challenge')! } : {}),
    });
    const back = new URL(redirectUri);
    back.searchParams.set('code', code);
    if (q.get('state') !== null) back.searchParams.set('state', q.get('state')!);
    back.searchParams.set('session_state', randomUUID());
    res.writeHead(302, { location: back.href }).end();
  }

  async function token(req: IncomingMessage, res: ServerResponse) {
    const form = new URLSearchParams(await readBody(req));
    let clientId = form.get('client_id') ?? '';
    let secret = form.get('client_secret');
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    if (basic) {
      const [id, s] = Buffer.from(basic[1]!, 'base64').toString().split(':').map(decodeURIComponent);
      clientId = id ?? '';
      secret = s ?? null;
    }
    const app = apps.get(clientId);
    if (!app || secret !== app.clientSecret) return aadError(res, 401, 'invalid_client', 7000215, 'Invalid client secret provided.');
    if (form.get('grant_type') !== 'authorization_code') return aadError(res, 400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    const code = codes.get(form.get('code') ?? '');
    codes.delete(form.get('code') ?? '');
    if (!code || code.expiresAt < Date.now() || code.clientId !== clientId || code.redirectUri !== form.get('redirect_uri')) {
      return aadError(res, 400, 'invalid_grant', 70008, 'The provided authorization code or refresh token has expired due to inactivity.');
    }
    if (
      code.challenge &&
      createHash('sha256')
        .update(form.get('code_verifier') ?? '')
        .digest('base64url') !== code.challenge
    ) {
      return aadError(res, 400, 'invalid_grant', 501481, 'The Code_Verifier does not match the code_challenge supplied in the authorization request.');
    }
    const a = accounts.get(code.username)!;
    const now = Math.floor(Date.now() / 1000);
    const issTenant = standin.forgeIssuerTenant ?? a.tenantId;
    standin.forgeIssuerTenant = undefined;
    const idToken = await new SignJWT({
      ver: '2.0',
      iss: `${base}/${issTenant}/v2.0`,
      sub: createHash('sha256').update(`${clientId}:${a.oid}`).digest('base64url').slice(0, 43),
      aud: clientId,
      exp: now + 3600,
      iat: now,
      nbf: now,
      name: a.name,
      preferred_username: a.username,
      oid: a.oid,
      ...(a.email ? { email: a.email } : {}),
      tid: a.tenantId,
      ...(code.nonce ? { nonce: code.nonce } : {}),
      sid: randomUUID(),
      uti: randomBytes(16).toString('base64url'),
      rh: `0.A${randomBytes(12).toString('base64url')}.`,
    })
      .setProtectedHeader({ typ: 'JWT', alg: 'RS256', kid })
      .sign(privateKey as CryptoKey);
    json(res, 200, {
      token_type: 'Bearer',
      scope: code.scope
        .split(' ')
        .filter((s) => s !== 'openid')
        .concat(['openid'])
        .join(' '),
      expires_in: 3599,
      ext_expires_in: 3599,
      access_token: `eyJ0eXAiOiJKV1Qi.${randomBytes(32).toString('base64url')}`,
      id_token: idToken,
    });
  }

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', base);
    standin.requests.push({ method: req.method ?? 'GET', path: url.pathname });
    try {
      let m: RegExpExecArray | null;
      if ((m = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(url.pathname)) && (GUID.test(m[1]!) || ['common', 'organizations'].includes(m[1]!))) {
        return json(res, 200, discovery(m[1]!));
      }
      if (/^\/[^/]+\/discovery\/v2\.0\/keys$/.test(url.pathname)) return json(res, 200, { keys: [jwk] });
      if ((m = /^\/([^/]+)\/oauth2\/v2\.0\/authorize$/.exec(url.pathname))) return await authorize(req, res, m[1]!, url);
      if (/^\/[^/]+\/oauth2\/v2\.0\/token$/.test(url.pathname) && req.method === 'POST') return await token(req, res);
      json(res, 404, { error: 'not_found' });
    } catch (e) {
      json(res, 500, { error: 'server_error', error_description: (e as Error).message });
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  jwk.issuer = `${base}/{tenantid}/v2.0`;
  const standin: EntraStandin = {
    url: base,
    requests: [],
    addApp: (app) => apps.set(app.clientId, { clientSecret: app.clientSecret, redirectUri: app.redirectUri }),
    addAccount: (a) => accounts.set(a.username, { ...a, oid: randomUUID() }),
    close: () => new Promise((r) => server.close(() => r())),
  };
  return standin;
}
