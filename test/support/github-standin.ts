import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * A GitHub stand-in (GitHub itself cannot be reached from the tests). It follows GitHub's documented
 * OAuth app flow and REST answers field by field, laid out as GitHub Enterprise Server is (one host:
 * `/login/oauth/*` for OAuth, `/api/v3/*` for the REST API):
 *
 * - docs.github.com "Authorizing OAuth apps": `GET /login/oauth/authorize` (client_id, redirect_uri,
 *   scope, state, code_challenge/code_challenge_method S256, login, allow_signup, prompt); the user
 *   approves (or denies: `error=access_denied` with GitHub's description and error_uri); a
 *   redirect_uri that is not the registered callback is answered with `error=redirect_uri_mismatch`
 *   at the registered callback.
 * - `POST /login/oauth/access_token` (client_id, client_secret, code, redirect_uri, code_verifier):
 *   JSON when `Accept: application/json`, else form-encoded; `{access_token, scope, token_type:
 *   "bearer"}` with the scopes comma-separated; errors with **HTTP 200** and
 *   `{error, error_description, error_uri}` (bad_verification_code for an unknown, used, expired
 *   code or a PKCE verifier that does not match; incorrect_client_credentials; redirect_uri_mismatch).
 *   Codes are single-use and live 10 minutes; tokens look like `gho_…`.
 * - docs.github.com REST: every request without a `User-Agent` header is refused with 403 and
 *   GitHub's text; a bad token gets 401 `{"message":"Bad credentials","documentation_url",
 *   "status":"401"}`; answers carry `X-OAuth-Scopes` and `X-Accepted-OAuth-Scopes`.
 *   `GET /user` (the authenticated user's private profile, the fields of "Get the authenticated
 *   user"); `GET /user/emails` (needs `user:email` or `user`, else 404 Not Found) answering
 *   `[{email, primary, verified, visibility}]`; `GET /user/orgs` (organisation memberships: all
 *   with `read:org`/`user`, otherwise only public ones) answering organisation simple objects.
 * - `GET /avatars/u/{id}` serves the avatar image that `avatar_url` points at.
 */

export interface GitHubEmail {
  email: string;
  primary: boolean;
  verified: boolean;
  visibility: 'public' | 'private' | null;
}

export interface GitHubUser {
  login: string;
  id: number;
  name: string | null;
  /** The public profile email (null when the user keeps it private). */
  email: string | null;
  emails: GitHubEmail[];
  /** Organisation logins, with whether the membership is public. */
  orgs: { login: string; id: number; public: boolean }[];
  /** Bytes and type of the avatar served at avatar_url (default: a tiny PNG). */
  avatar?: { bytes: Buffer; contentType: string };
}

export interface GitHubStandin {
  url: string;
  /** OAuth endpoints and API base, as a provider config wants them. */
  authorizeUrl: string;
  tokenUrl: string;
  apiUrl: string;
  addApp(app: { clientId: string; clientSecret: string; callbackUrl: string }): void;
  addUser(user: GitHubUser): void;
  /** Every request: method, path, the headers the tests look at, and (for authorize) the query. */
  requests: { method: string; path: string; userAgent?: string; accept?: string; authorization?: string; query: Record<string, string> }[];
  close(): Promise<void>;
}

const DOCS = 'https://docs.github.com';
/** A 1×1 PNG. */
export const TINY_PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360f8cf00000301010018dd8db40000000049454e44ae426082', 'hex');

interface Code {
  clientId: string;
  login: string;
  scopes: string[];
  redirectUri: string;
  challenge?: string;
  expiresAt: number;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

export async function startGitHubStandin(): Promise<GitHubStandin> {
  const apps = new Map<string, { clientSecret: string; callbackUrl: string }>();
  const users = new Map<string, GitHubUser>();
  const codes = new Map<string, Code>();
  const tokens = new Map<string, { login: string; scopes: string[] }>();
  let base = '';

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-github-media-type': 'github.v3; format=json', ...headers }).end(JSON.stringify(body));
  const redirect = (res: ServerResponse, location: string) => res.writeHead(302, { location }).end();

  function userJson(u: GitHubUser) {
    const api = `${base}/api/v3`;
    return {
      login: u.login,
      id: u.id,
      node_id: Buffer.from(`04:User${u.id}`).toString('base64'),
      avatar_url: `${base}/avatars/u/${u.id}?v=4`,
      gravatar_id: '',
      url: `${api}/users/${u.login}`,
      html_url: `${base}/${u.login}`,
      followers_url: `${api}/users/${u.login}/followers`,
      following_url: `${api}/users/${u.login}/following{/other_user}`,
      gists_url: `${api}/users/${u.login}/gists{/gist_id}`,
      starred_url: `${api}/users/${u.login}/starred{/owner}{/repo}`,
      subscriptions_url: `${api}/users/${u.login}/subscriptions`,
      organizations_url: `${api}/users/${u.login}/orgs`,
      repos_url: `${api}/users/${u.login}/repos`,
      events_url: `${api}/users/${u.login}/events{/privacy}`,
      received_events_url: `${api}/users/${u.login}/received_events`,
      type: 'User',
      site_admin: false,
      name: u.name,
      company: null,
      blog: '',
      location: null,
      email: u.email,
      hireable: null,
      bio: null,
      twitter_username: null,
      public_repos: 2,
      public_gists: 1,
      followers: 20,
      following: 0,
      created_at: '2008-01-14T04:33:35Z',
      updated_at: '2024-01-14T04:33:35Z',
      private_gists: 0,
      total_private_repos: 0,
      owned_private_repos: 0,
      disk_usage: 10000,
      collaborators: 0,
      two_factor_authentication: true,
      plan: { name: 'free', space: 976562499, private_repos: 10000, collaborators: 0 },
    };
  }

  function orgJson(o: { login: string; id: number }) {
    const api = `${base}/api/v3/orgs/${o.login}`;
    return {
      login: o.login,
      id: o.id,
      node_id: Buffer.from(`04:Organization${o.id}`).toString('base64'),
      url: api,
      repos_url: `${api}/repos`,
      events_url: `${api}/events`,
      hooks_url: `${api}/hooks`,
      issues_url: `${api}/issues`,
      members_url: `${api}/members{/member}`,
      public_members_url: `${api}/public_members{/member}`,
      avatar_url: `${base}/avatars/u/${o.id}?v=4`,
      description: `The ${o.login} organisation`,
    };
  }

  function tokenError(res: ServerResponse, asJson: boolean, error: string, description: string, anchor: string) {
    const body = { error, error_description: description, error_uri: `${DOCS}/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#${anchor}` };
    // GitHub answers token errors with HTTP 200.
    if (asJson) return json(res, 200, body);
    res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }).end(new URLSearchParams(body).toString());
  }

  async function authorize(req: IncomingMessage, res: ServerResponse, url: URL) {
    const q = req.method === 'POST' ? new URLSearchParams(await readBody(req)) : url.searchParams;
    const clientId = q.get('client_id') ?? '';
    const app = apps.get(clientId);
    if (!app) return res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>404</h1><p>Not Found</p>');
    const state = q.get('state');
    const back = (params: Record<string, string>) => {
      const target = new URL(app.callbackUrl);
      for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
      if (state !== null) target.searchParams.set('state', state);
      return redirect(res, target.href);
    };
    const redirectUri = q.get('redirect_uri') ?? app.callbackUrl;
    if (redirectUri !== app.callbackUrl) {
      return back({
        error: 'redirect_uri_mismatch',
        error_description: 'The redirect_uri MUST match the registered callback URL for this application.',
        error_uri: `${DOCS}/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#redirect-uri-mismatch`,
      });
    }
    const method = q.get('code_challenge_method');
    const challenge = q.get('code_challenge') ?? undefined;
    if (challenge !== undefined && method !== 'S256') return res.writeHead(400, { 'content-type': 'text/plain' }).end('code_challenge_method must be S256');
    if (req.method === 'GET') {
      // GitHub's sign-in and "Authorize <app>" screens, as one form.
      const hidden = [...url.searchParams].map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`).join('');
      const body = `<!DOCTYPE html><html><head><title>Authorize application</title></head><body><form method="post" action="/login/oauth/authorize">${hidden}
<label>Username or email address <input name="login" value="${esc(q.get('login') ?? '')}"></label>
<button type="submit" name="authorize" value="1">Authorize</button><button type="submit" name="authorize" value="0">Cancel</button></form></body></html>`;
      return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
    }
    if (q.get('authorize') !== '1') {
      return back({
        error: 'access_denied',
        error_description: 'The user has denied your application access.',
        error_uri: `${DOCS}/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#access-denied`,
      });
    }
    const login = q.get('login') ?? '';
    if (!users.has(login)) return res.writeHead(200, { 'content-type': 'text/html' }).end('<p>Incorrect username or password.</p>');
    const code = randomBytes(10).toString('hex');
    const scopes = (q.get('scope') ?? '').split(/[ ,]+/).filter(Boolean);
    codes.set(code, { clientId, login, scopes, redirectUri, ...(challenge ? { challenge } : {}), expiresAt: Date.now() + 600_000 });
    return back({ code });
  }

  async function accessToken(req: IncomingMessage, res: ServerResponse) {
    const asJson = (req.headers.accept ?? '').includes('application/json');
    const form = new URLSearchParams(await readBody(req));
    let clientId = form.get('client_id') ?? '';
    let secret = form.get('client_secret') ?? '';
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    if (basic) [clientId = '', secret = ''] = Buffer.from(basic[1]!, 'base64').toString().split(':').map(decodeURIComponent);
    const app = apps.get(clientId);
    if (!app || app.clientSecret !== secret) {
      return tokenError(res, asJson, 'incorrect_client_credentials', 'The client_id and/or client_secret passed are incorrect.', 'incorrect-client-credentials');
    }
    const code = codes.get(form.get('code') ?? '');
    codes.delete(form.get('code') ?? '');
    const verifier = form.get('code_verifier');
    const pkceOk = !code?.challenge || (verifier !== null && createHash('sha256').update(verifier).digest('base64url') === code.challenge);
    if (!code || code.clientId !== clientId || code.expiresAt < Date.now() || !pkceOk) {
      return tokenError(res, asJson, 'bad_verification_code', 'The code passed is incorrect or expired.', 'bad-verification-code');
    }
    const redirectUri = form.get('redirect_uri');
    if (redirectUri !== null && redirectUri !== code.redirectUri) {
      return tokenError(res, asJson, 'redirect_uri_mismatch', 'The redirect_uri MUST match the registered callback URL for this application.', 'redirect-uri-mismatch');
    }
    const token = `gho_${randomBytes(18).toString('base64url').replace(/[-_]/g, 'x').slice(0, 36)}`;
    tokens.set(token, { login: code.login, scopes: code.scopes });
    const body = { access_token: token, scope: code.scopes.join(','), token_type: 'bearer' };
    if (asJson) return json(res, 200, body);
    res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }).end(new URLSearchParams(body).toString());
  }

  function api(req: IncomingMessage, res: ServerResponse, path: string) {
    if (!req.headers['user-agent']) {
      return res
        .writeHead(403, { 'content-type': 'text/plain; charset=utf-8' })
        .end(
          'Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.\n',
        );
    }
    const m = /^(?:Bearer|token) (.+)$/i.exec(req.headers.authorization ?? '');
    const grant = m ? tokens.get(m[1]!) : undefined;
    const user = grant ? users.get(grant.login) : undefined;
    if (!grant || !user) return json(res, 401, { message: 'Bad credentials', documentation_url: `${DOCS}/rest`, status: '401' });
    const has = (...scopes: string[]) => scopes.some((s) => grant.scopes.includes(s));
    const headers = (accepted: string) => ({ 'x-oauth-scopes': grant.scopes.join(', '), 'x-accepted-oauth-scopes': accepted });
    if (req.method !== 'GET') return json(res, 404, { message: 'Not Found', documentation_url: `${DOCS}/rest`, status: '404' });
    if (path === '/user') return json(res, 200, userJson(user), headers(''));
    if (path === '/user/emails') {
      if (!has('user', 'user:email')) {
        return json(res, 404, { message: 'Not Found', documentation_url: `${DOCS}/rest/users/emails#list-email-addresses-for-the-authenticated-user`, status: '404' }, headers('user, user:email'));
      }
      return json(res, 200, user.emails, headers('user, user:email'));
    }
    if (path === '/user/orgs') {
      const visible = user.orgs.filter((o) => o.public || has('read:org', 'user', 'admin:org'));
      return json(res, 200, visible.map(orgJson), headers('admin:org, read:org, repo, user, write:org'));
    }
    return json(res, 404, { message: 'Not Found', documentation_url: `${DOCS}/rest`, status: '404' });
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', base);
    standin.requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}),
      ...(req.headers.accept ? { accept: req.headers.accept } : {}),
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    });
    const run = async () => {
      if (url.pathname === '/login/oauth/authorize') return authorize(req, res, url);
      if (url.pathname === '/login/oauth/access_token' && req.method === 'POST') return accessToken(req, res);
      if (url.pathname.startsWith('/api/v3/')) return api(req, res, url.pathname.slice('/api/v3'.length));
      const avatar = /^\/avatars\/u\/(\d+)$/.exec(url.pathname);
      if (avatar) {
        const u = [...users.values()].find((x) => String(x.id) === avatar[1]);
        const a = u?.avatar ?? { bytes: TINY_PNG, contentType: 'image/png' };
        return res.writeHead(200, { 'content-type': a.contentType, 'content-length': String(a.bytes.length) }).end(a.bytes);
      }
      res.writeHead(404).end();
    };
    run().catch((e) => {
      if (!res.headersSent) res.writeHead(500).end(String(e));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const standin: GitHubStandin = {
    url: base,
    authorizeUrl: `${base}/login/oauth/authorize`,
    tokenUrl: `${base}/login/oauth/access_token`,
    apiUrl: `${base}/api/v3`,
    requests: [],
    addApp: (a) => apps.set(a.clientId, { clientSecret: a.clientSecret, callbackUrl: a.callbackUrl }),
    addUser: (u) => users.set(u.login, u),
    close: () => new Promise((r) => server.close(() => r())),
  };
  return standin;
}
