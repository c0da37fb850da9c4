import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { decodeJwt, exportJWK, generateKeyPair, exportPKCS8 } from 'jose';
import { pino } from 'pino';
import type { Redis } from 'ioredis';
import { connectRedis } from '../../../src/storage/redis.js';
import { RedisKeyValueStore } from '../../../src/storage/kv-store.js';
import { parseOptions } from '../../../src/config/secret-ref.js';
import { oidcProviderSchema } from '../../../src/upstream/oidc/oidc.config.js';
import { OidcConnector } from '../../../src/upstream/oidc/oidc.connector.js';
import { UpstreamError, type CallbackRequest, type UpstreamLoginContext } from '../../../src/upstream/connector.js';
import { LogoutTokenError } from '../../../src/upstream/oidc/logout-token.js';
import { Browser, forms } from '../../support/browser.js';
import { errorsFor, oidcPeerWithClients, peerAdminLogout, removeOidcPeerClients, withPeerUser } from '../../support/oidc-peer.js';
import type { Peer } from '../../support/peers.js';
import { freePort } from '../../support/ports.js';
import { english } from '../../support/i18n.js';

/**
 * The OIDC connector on its own, against the real oidc-provider peer: a person signs in at the
 * peer's form, the connector completes the callback. The Causeway-level flow (login machine,
 * pages, tokens) is tested end to end in test/e2e.
 */

const RUN = randomBytes(4).toString('hex');
const CALLBACK = 'http://127.0.0.1:9/upstream/peer/callback';
const logger = pino({ level: 'silent' });
let redis: Redis;
let kv: RedisKeyValueStore;
let peer: Peer;
let bclServer: Server;
let bclUrl: string;
const logoutTokens: string[] = [];
let pkjwtPem: string;

function connector(over: Record<string, unknown>): OidcConnector {
  parseOptions.devMode = true;
  try {
    const config = oidcProviderSchema.parse({ id: 'peer', name: 'Peer IdP', kind: 'oidc', issuer: peer.url, allow_insecure_http: true, ...over });
    return new OidcConnector(config, { publicBase: 'http://127.0.0.1:9/', kv, logger });
  } finally {
    parseOptions.devMode = false;
  }
}

const ctx = (state = `st-${randomBytes(8).toString('hex')}`): UpstreamLoginContext => ({ loginId: 'l1', state, callbackUrl: CALLBACK, prompt: [] });

/** Drives the peer's login form as alice (or bob); returns the callback request the browser would make. */
async function signInAtPeer(authorizeUrl: string, user = 'alice', pass = `${user}pass`): Promise<CallbackRequest> {
  const browser = new Browser();
  const page = await browser.go(authorizeUrl);
  expect(page.status).toBe(200);
  const [form] = forms(page.body, page.url);
  const done = await browser.submit(form!, { username: user, password: pass }, (u) => u.startsWith(CALLBACK));
  if (done.stoppedAt) {
    const url = new URL(done.stoppedAt);
    return { method: 'GET', url: url.href, query: Object.fromEntries(url.searchParams), body: {}, ip: '127.0.0.1' };
  }
  // response_mode=form_post: the peer answers with an auto-submitting form to the callback.
  const [post] = forms(done.body, done.url);
  expect(post?.action).toBe(CALLBACK);
  return { method: 'POST', url: CALLBACK, query: {}, body: post!.fields, ip: '127.0.0.1' };
}

async function kindOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'accepted';
  } catch (e) {
    if (e instanceof UpstreamError) return e.kind;
    if (e instanceof LogoutTokenError) return e.reason;
    throw e;
  }
}

beforeAll(async () => {
  redis = connectRedis('redis://127.0.0.1:6379', 'oidc-connector-test');
  kv = new RedisKeyValueStore(redis, `test:${RUN}:`);
  bclServer = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const token = new URLSearchParams(body).get('logout_token');
      if (token) logoutTokens.push(token);
      res.writeHead(200).end();
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => bclServer.listen(port, '127.0.0.1', r));
  bclUrl = `http://127.0.0.1:${port}/bcl`;
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  pkjwtPem = await exportPKCS8(privateKey);
  const base = { redirect_uris: [CALLBACK], post_logout_redirect_uris: ['http://127.0.0.1:9/done'] };
  peer = await oidcPeerWithClients(
    { client_id: `conn-basic-${RUN}`, client_secret: 'basic-secret', ...base, backchannel_logout_uri: bclUrl },
    { client_id: `conn-post-${RUN}`, client_secret: 'post-secret', token_endpoint_auth_method: 'client_secret_post', ...base },
    { client_id: `conn-pkjwt-${RUN}`, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'pk1', alg: 'ES256', use: 'sig' }] }, ...base },
    { client_id: `conn-csjwt-${RUN}`, client_secret: 'csjwt-secret-0123456789abcdef0123456789', token_endpoint_auth_method: 'client_secret_jwt', ...base },
    { client_id: `conn-signedui-${RUN}`, client_secret: 'signed-ui-secret', userinfo_signed_response_alg: 'RS256', ...base },
  );
}, 600_000);

afterAll(async () => {
  if (peer) await removeOidcPeerClients(peer, `conn-basic-${RUN}`, `conn-post-${RUN}`, `conn-pkjwt-${RUN}`, `conn-csjwt-${RUN}`, `conn-signedui-${RUN}`);
  await new Promise((r) => bclServer.close(r));
  const keys = await redis.keys(`test:${RUN}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

describe('OIDC connector against the real oidc-provider peer', () => {
  const basic = () => connector({ client_id: `conn-basic-${RUN}`, client_secret: 'basic-secret', scopes: ['openid', 'profile', 'email', 'groups'], upstream_logout: true });

  it('builds without any network call (discovery is lazy)', () => {
    const c = connector({ issuer: 'http://127.0.0.1:9/nowhere', client_id: 'x', client_secret: 's' });
    expect(c.provider.id).toBe('peer');
  });

  it('signs alice in: PKCE, nonce, state, ID token, userinfo, sid', () =>
    withPeerUser(peer, 'alice', async () => {
      const c = basic();
      const login = ctx();
      const begun = await c.begin(login);
      const url = new URL(begun.redirectUrl!);
      expect(url.origin + url.pathname).toBe(`${peer.url}/auth`);
      expect(url.searchParams.get('code_challenge_method')).toBe('S256');
      expect(url.searchParams.get('state')).toBe(login.state);
      expect(url.searchParams.get('nonce')).toBeTruthy();
      expect(url.searchParams.get('scope')).toBe('openid profile email groups');
      expect(JSON.stringify(begun.saved)).not.toContain('basic-secret');

      const callback = await signInAtPeer(begun.redirectUrl!);
      expect(callback.query.iss).toBe(peer.url);
      expect(c.extractState(callback)).toBe(login.state);
      const a = await c.complete(callback, begun.saved, login);
      expect(a.providerId).toBe('peer');
      expect(a.subject).toBe('alice');
      expect(a.attributes).toMatchObject({ sub: 'alice', name: 'Alice Liddell', email: 'alice@example.org', email_verified: 'true', groups: ['member', 'staff'], preferred_username: 'alice' });
      expect(a.upstreamSid).toEqual(expect.any(String));
      expect(a.sessionDetails?.id_token).toEqual(expect.any(String));

      // Replaying the same callback: the code is single-use at the IdP.
      expect(await kindOf(c.complete(callback, begun.saved, login))).toBe('upstream_denied');

      // RP-initiated logout at the IdP: end_session_endpoint with id_token_hint, post_logout_redirect_uri and state.
      const logout = new URL((await c.logoutUrl!({ providerId: 'peer', subject: a.subject, upstreamSid: a.upstreamSid!, details: a.sessionDetails! }, { returnTo: 'http://127.0.0.1:9/done', state: 'ls1' }))!);
      expect(logout.origin + logout.pathname).toBe(`${peer.url}/session/end`);
      expect(logout.searchParams.get('id_token_hint')).toBe(a.sessionDetails!.id_token);
      expect(logout.searchParams.get('post_logout_redirect_uri')).toBe('http://127.0.0.1:9/done');
      expect(logout.searchParams.get('state')).toBe('ls1');
      // The IdP accepts the hint and the return address (a bad one gives its error page instead).
      const confirm = await fetch(logout);
      expect(confirm.status).toBe(200);
      expect(await confirm.text()).toContain('/session/end/confirm');
    }));

  it('refuses a callback whose state is not the login’s (unknown state)', () =>
    withPeerUser(peer, 'alice', async () => {
      const c = basic();
      const login = ctx();
      const begun = await c.begin(login);
      const callback = await signInAtPeer(begun.redirectUrl!);
      expect(await kindOf(c.complete(callback, begun.saved, { ...login, state: 'another-state' }))).toBe('state_mismatch');
    }));

  it('refuses an ID token whose nonce is not the login’s', () =>
    withPeerUser(peer, 'alice', async () => {
      const c = basic();
      const login = ctx();
      const begun = await c.begin(login);
      const callback = await signInAtPeer(begun.redirectUrl!);
      expect(await kindOf(c.complete(callback, { ...begun.saved, nonce: 'a-different-nonce' }, login))).toBe('nonce_mismatch');
    }));

  it('refuses a PKCE verifier that does not match (code stolen from another login)', () =>
    withPeerUser(peer, 'alice', async () => {
      const c = basic();
      const login = ctx();
      const begun = await c.begin(login);
      const callback = await signInAtPeer(begun.redirectUrl!);
      expect(await kindOf(c.complete(callback, { ...begun.saved, code_verifier: 'x'.repeat(43) }, login))).toBe('upstream_denied');
    }));

  it('refuses a login begun at another provider (IdP mix-up)', () =>
    withPeerUser(peer, 'alice', async () => {
      const c = basic();
      const login = ctx();
      const begun = await c.begin(login);
      const callback = await signInAtPeer(begun.redirectUrl!);
      expect(await kindOf(c.complete(callback, { ...begun.saved, provider: 'other-idp' }, login))).toBe('state_mismatch');
    }));

  it('refuses a callback whose iss is another issuer (RFC 9207)', () =>
    withPeerUser(peer, 'alice', async () => {
      const c = basic();
      const login = ctx();
      const begun = await c.begin(login);
      const callback = await signInAtPeer(begun.redirectUrl!);
      expect(await kindOf(c.complete({ ...callback, query: { ...callback.query, iss: 'https://evil.example.com' } }, begun.saved, login))).toBe('issuer_mismatch');
      const { iss: _drop, ...withoutIss } = callback.query;
      expect(await kindOf(c.complete({ ...callback, query: withoutIss }, begun.saved, login))).toBe('issuer_mismatch');
    }));

  it('reports an error answer of the IdP (access_denied) as denied', async () => {
    const c = basic();
    const login = ctx();
    const begun = await c.begin(login);
    const req: CallbackRequest = { method: 'GET', url: CALLBACK, query: { error: 'access_denied', state: login.state, iss: peer.url }, body: {}, ip: '127.0.0.1' };
    const err = await c.complete(req, begun.saved, login).catch((e: UpstreamError) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).kind).toBe('upstream_denied');
    expect(english((err as UpstreamError).userMessage)).toMatch(/cancelled or refused/);
  });

  it('response_mode=form_post: the IdP POSTs the code back; a GET callback is refused', () =>
    withPeerUser(peer, 'alice', async () => {
      const c = connector({ client_id: `conn-basic-${RUN}`, client_secret: 'basic-secret', response_mode: 'form_post' });
      const login = ctx();
      const begun = await c.begin(login);
      expect(new URL(begun.redirectUrl!).searchParams.get('response_mode')).toBe('form_post');
      const callback = await signInAtPeer(begun.redirectUrl!);
      expect(callback.method).toBe('POST');
      expect(c.extractState(callback)).toBe(login.state);
      expect(c.extractState({ ...callback, method: 'GET', query: callback.body, body: {} })).toBeUndefined();
      expect(await kindOf(c.complete({ ...callback, method: 'GET', query: callback.body, body: {} }, begun.saved, login))).toBe('malformed');
      expect((await c.complete(callback, begun.saved, login)).subject).toBe('alice');
    }));

  it('client_secret_post', () =>
    withPeerUser(peer, 'bob', async () => {
      const c = connector({ client_id: `conn-post-${RUN}`, client_secret: 'post-secret', token_endpoint_auth_method: 'client_secret_post' });
      const login = ctx();
      const begun = await c.begin(login);
      expect((await c.complete(await signInAtPeer(begun.redirectUrl!, 'bob'), begun.saved, login)).attributes).toMatchObject({ sub: 'bob', name: 'Bob' });
    }));

  it('private_key_jwt (ES256 key from a PEM)', () =>
    withPeerUser(peer, 'alice', async () => {
      const c = connector({ client_id: `conn-pkjwt-${RUN}`, token_endpoint_auth_method: 'private_key_jwt', private_key: pkjwtPem, private_key_kid: 'pk1' });
      const login = ctx();
      const begun = await c.begin(login);
      expect((await c.complete(await signInAtPeer(begun.redirectUrl!), begun.saved, login)).subject).toBe('alice');
    }));

  it('client_secret_jwt (an HS256 assertion keyed with the client secret); a wrong secret is refused', () =>
    withPeerUser(peer, 'alice', async () => {
      const c = connector({ client_id: `conn-csjwt-${RUN}`, token_endpoint_auth_method: 'client_secret_jwt', client_secret: 'csjwt-secret-0123456789abcdef0123456789' });
      const login = ctx();
      const begun = await c.begin(login);
      expect((await c.complete(await signInAtPeer(begun.redirectUrl!), begun.saved, login)).subject).toBe('alice');
      const wrong = connector({ client_id: `conn-csjwt-${RUN}`, token_endpoint_auth_method: 'client_secret_jwt', client_secret: 'not-the-secret-0123456789abcdef01234567' });
      const login2 = ctx();
      const begun2 = await wrong.begin(login2);
      expect(await kindOf(wrong.complete(await signInAtPeer(begun2.redirectUrl!), begun2.saved, login2))).toBe('config');
    }));

  it('signed userinfo (userinfo_signed_response_alg): the JWT is verified and its claims used; a plain JSON answer is refused', () =>
    withPeerUser(peer, 'alice', async () => {
      const c = connector({ client_id: `conn-signedui-${RUN}`, client_secret: 'signed-ui-secret', userinfo_signed_response_alg: 'RS256', scopes: ['openid', 'profile', 'email'] });
      const login = ctx();
      const begun = await c.begin(login);
      const a = await c.complete(await signInAtPeer(begun.redirectUrl!), begun.saved, login);
      expect(a.attributes).toMatchObject({ name: 'Alice Liddell', email: 'alice@example.org' });
      // A client the IdP answers with plain JSON: when signed userinfo is required, that answer is not accepted.
      const plain = connector({ client_id: `conn-basic-${RUN}`, client_secret: 'basic-secret', userinfo_signed_response_alg: 'RS256', scopes: ['openid', 'profile'] });
      const login2 = ctx();
      const begun2 = await plain.begin(login2);
      expect(await kindOf(plain.complete(await signInAtPeer(begun2.redirectUrl!), begun2.saved, login2))).toBe('malformed');
    }));

  it('a wrong client secret is an operator problem (503 config), not a crash', () =>
    withPeerUser(peer, 'alice', async () => {
      const c = connector({ client_id: `conn-basic-${RUN}`, client_secret: 'wrong' });
      const login = ctx();
      const begun = await c.begin(login);
      expect(await kindOf(c.complete(await signInAtPeer(begun.redirectUrl!), begun.saved, login))).toBe('config');
    }));

  it('back-channel logout: the peer’s logout token is accepted once (sid of the sign-in), then refused as a replay', () =>
    withPeerUser(peer, 'bob', async () => {
      const c = connector({ client_id: `conn-basic-${RUN}`, client_secret: 'basic-secret', backchannel_logout: true });
      const login = ctx();
      const begun = await c.begin(login);
      const assertion = await c.complete(await signInAtPeer(begun.redirectUrl!, 'bob'), begun.saved, login);
      logoutTokens.length = 0;
      const out = await peerAdminLogout(peer, 'bob');
      expect(errorsFor(out, `conn-basic-${RUN}`)).toEqual([]);
      expect(out.notified).toContain(`conn-basic-${RUN}`);
      expect(logoutTokens.length).toBeGreaterThan(0);
      // Only bob's token (another file may log alice out of this client at the same time).
      const token = logoutTokens.find((t) => decodeJwt(t).sub === 'bob')!;
      expect(token).toBeDefined();
      const verified = await c.acceptLogoutToken(token);
      expect(verified.sub).toBe('bob');
      expect(verified.sid).toBe(assertion.upstreamSid);
      expect(await kindOf(c.acceptLogoutToken(token))).toBe('replayed');
      // Another provider's connector (other client_id): aud does not match.
      const other = connector({ client_id: `conn-post-${RUN}`, client_secret: 'post-secret', token_endpoint_auth_method: 'client_secret_post', backchannel_logout: true });
      expect(await kindOf(other.acceptLogoutToken(token))).toBe('audience_mismatch');
    }));

  it('an unreachable IdP is reported as unavailable, naming the provider', async () => {
    const c = connector({ issuer: `http://127.0.0.1:${await freePort()}`, client_id: 'x', client_secret: 's' });
    const err = await c.begin(ctx()).catch((e: UpstreamError) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).kind).toBe('upstream_unavailable');
    expect((err as UpstreamError).status).toBe(503);
    expect(english((err as UpstreamError).userMessage)).toContain('Peer IdP');
  });
});
