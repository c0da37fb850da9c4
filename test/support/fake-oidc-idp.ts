import { createServer, type IncomingMessage, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWTPayload } from 'jose';

/**
 * A minimal OpenID Provider that serves discovery, JWKS, a token endpoint and userinfo, and answers
 * the token endpoint with ID tokens the test crafts (forged signatures, alg none, wrong iss/aud,
 * expired, wrong nonce): the test double for attacks a real IdP never produces. Everything else
 * runs against the real oidc-provider peer.
 */
export interface FakeIdp {
  issuer: string;
  /** The IdP's own signing key (published in its JWKS). */
  key: CryptoKey;
  /** A key the IdP does not publish. */
  otherKey: CryptoKey;
  /** What the token endpoint answers for a code: set per test. */
  onToken: (code: string, form: URLSearchParams) => { status?: number; body: unknown } | Promise<{ status?: number; body: unknown }>;
  /** Requests received (method + path), for assertions. */
  requests: string[];
  sign(claims: JWTPayload, opts?: { key?: CryptoKey; alg?: string; kid?: string; typ?: string }): Promise<string>;
  unsigned(claims: JWTPayload): string;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

export async function startFakeIdp(opts: { issResponseParameter?: boolean } = {}): Promise<FakeIdp> {
  const own = await generateKeyPair('RS256');
  const other = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(own.publicKey)), kid: 'fake-1', alg: 'RS256', use: 'sig' };
  let issuer = '';
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    idp.requests.push(`${req.method} ${url.pathname}`);
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    try {
      if (url.pathname === '/.well-known/openid-configuration') {
        return json(200, {
          issuer,
          authorization_endpoint: `${issuer}/auth`,
          token_endpoint: `${issuer}/token`,
          userinfo_endpoint: `${issuer}/me`,
          jwks_uri: `${issuer}/jwks`,
          end_session_endpoint: `${issuer}/session/end`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256', 'none', 'HS256'],
          token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
          code_challenge_methods_supported: ['S256'],
          authorization_response_iss_parameter_supported: opts.issResponseParameter ?? true,
        });
      }
      if (url.pathname === '/jwks') return json(200, { keys: [jwk] });
      if (url.pathname === '/token' && req.method === 'POST') {
        const form = new URLSearchParams(await readBody(req));
        const out = await idp.onToken(form.get('code') ?? '', form);
        return json(out.status ?? 200, out.body);
      }
      if (url.pathname === '/me') return json(200, { sub: 'fake-user', name: 'Fake User' });
      json(404, { error: 'not_found' });
    } catch (e) {
      json(500, { error: 'server_error', error_description: (e as Error).message });
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const idp: FakeIdp = {
    issuer,
    key: own.privateKey,
    otherKey: other.privateKey,
    requests: [],
    onToken: () => ({ status: 400, body: { error: 'invalid_grant' } }),
    sign: (claims, o = {}) => new SignJWT(claims).setProtectedHeader({ alg: o.alg ?? 'RS256', kid: o.kid ?? 'fake-1', ...(o.typ ? { typ: o.typ } : {}) }).sign(o.key ?? own.privateKey),
    unsigned: (claims) => new UnsecuredJWT(claims).encode(),
    close: () => new Promise((r) => server.close(() => r())),
  };
  return idp;
}
