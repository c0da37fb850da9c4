import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { CausewayDb } from '../../support/causeway-db.js';
import { TEST_DBS } from '../../support/databases.js';
import { Browser, forms, textOf, type BrowserResponse } from '../../support/browser.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { oidcPeerWithClients, removeOidcPeerClients, withPeerUser } from '../../support/oidc-peer.js';
import type { Peer } from '../../support/peers.js';
import { freePort } from '../../support/ports.js';
import { postForm, registerClient } from '../oauth2/oauth-http.js';
import { authorizeUrl, CLIENT_URI, codeOf, decide, exchange, onlyForm, pkce, REDIRECT, toClient } from '../login/login-flow.js';

/**
 * Who may register and which clients may connect (README "Policy and lifecycle"), through real
 * sign-ins: the dev sign-in and the real OIDC peer (alice, bob). One Causeway per database with a
 * provider per registration mode, the identity rules, a client allow-list and the device grant off.
 */

const RUN = randomBytes(4).toString('hex');
const PEER_CLIENT = `causeway-policy-${RUN}`;
const PEER_SECRET = randomBytes(16).toString('hex');
/** Dev providers take the email from the form's display-name field (the dev form has no email field). */
const devMail = { email: { template: '{{ user.displayName }}' }, displayname: { action: 'ignore' } };
/** A client on the allow list (its client_uri host). */
const allowedClient = {
  client_name: 'Allowed app',
  client_uri: CLIENT_URI,
  redirect_uris: [REDIRECT],
  application_type: 'web',
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'],
};

let peer: Peer;

beforeAll(async () => {
  peer = await oidcPeerWithClients({ client_id: PEER_CLIENT, client_secret: PEER_SECRET, redirect_uris: ['http://127.0.0.1:9/unused'] });
}, 120_000);
afterAll(async () => {
  if (peer) await removeOidcPeerClients(peer, PEER_CLIENT);
});

describe.each(TEST_DBS)('registration and client policy on %s', (db) => {
  let hs: HomeserverStandin;
  let cw: CausewayProcess;
  let data: CausewayDb;
  let clientId: string;

  beforeAll(async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}/`;
    // One peer client per file; each database's Causeway (run one after the other) puts in its callback.
    await oidcPeerWithClients({ client_id: PEER_CLIENT, client_secret: PEER_SECRET, redirect_uris: [`${base}upstream/peer/callback`] });
    hs = await startHomeserverStandin({ secret: SHARED_SECRET, cache: false });
    cw = await startCauseway({
      db,
      port,
      config: {
        matrix: { homeserver: hs.serverName, endpoint: `${hs.url}/`, secret: SHARED_SECRET },
        policy: {
          localpart_deny: ['^test'],
          localpart_allow: [{ regex: '^[a-z]', name: 'starts with a letter' }],
          email_domains: ['example.org'],
          client_registration: 'allow_list',
          client_registration_allow: ['localhost'],
          device_code_grant: false,
        },
        upstream: {
          providers: [
            { id: 'dev', kind: 'dev', name: 'Open sign-in', claims: devMail },
            { id: 'pick', kind: 'dev', name: 'Pick a name', claims: { ...devMail, localpart: { action: 'suggest' } } },
            { id: 'existing', kind: 'dev', name: 'Staff sign-in', registration: 'existing_only', on_conflict: 'set', claims: devMail },
            { id: 'closed', kind: 'dev', name: 'Legacy sign-in', registration: 'disabled', on_conflict: 'link', claims: devMail },
            {
              id: 'peer',
              kind: 'oidc',
              name: 'Example IdP',
              issuer: peer.url,
              client_id: PEER_CLIENT,
              client_secret: PEER_SECRET,
              allow_insecure_http: true,
              scopes: ['openid', 'profile', 'email'],
              registration: 'existing_only',
              on_conflict: 'set',
            },
          ],
        },
      },
    });
    hs.setEndpoint(cw.issuer);
    data = await CausewayDb.open(cw.database);
    clientId = await registerClient(cw.url, allowedClient);
  }, 120_000);

  afterAll(async () => {
    await data?.close();
    await cw?.dispose();
    await hs?.stop();
    if (cw) expect(cw.logs.filter((l) => l.includes('"status":500'))).toEqual([]);
  });

  /** From /authorize with `?provider=` through the dev form; stops at the client or on the first page with nowhere to go. */
  async function devLogin(provider: string, username: string, email = `${username}@example.org`, prompt?: string) {
    const browser = new Browser();
    const p = pkce();
    let res: BrowserResponse & { stoppedAt?: string } = await browser.go(
      authorizeUrl(cw.url, { clientId, challenge: p.challenge, deviceId: `D${randomBytes(4).toString('hex')}`, extra: { provider }, ...(prompt ? { prompt } : {}) }),
      {},
      toClient,
    );
    if (res.status === 200 && 'username' in (forms(res.body, res.url)[0]?.fields ?? {})) {
      res = await browser.submit(
        onlyForm(res, (f) => 'username' in f.fields),
        { username, displayName: email },
        toClient,
      );
    }
    if (!res.stoppedAt && forms(res.body, res.url).some((f) => f.action.endsWith('/consent'))) res = await decide(browser, res, 'allow');
    return { browser, res, verifier: p.verifier };
  }

  async function userIdOf(localpart: string): Promise<string | undefined> {
    const rows = (await data.ds.query(db === 'postgres' ? 'SELECT id FROM users WHERE localpart = $1' : 'SELECT id FROM users WHERE localpart = ?', [localpart])) as { id: string }[];
    return rows[0]?.id;
  }

  describe('client policy', () => {
    it('discovery leaves out the device grant and keeps registration (allow_list) and sign-up (an open provider)', async () => {
      const meta = (await (await fetch(`${cw.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      expect(meta.device_authorization_endpoint).toBeUndefined();
      expect(meta.grant_types_supported).not.toContain('urn:ietf:params:oauth:grant-type:device_code');
      expect(meta.registration_endpoint).toBe(`${cw.url}/oauth2/registration`);
      expect(meta.prompt_values_supported).toEqual(['create']);
    });

    it('refuses a client outside the allow list at registration, naming the rule', async () => {
      const res = await fetch(`${cw.url}/oauth2/registration`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...allowedClient, client_uri: 'https://app.elsewhere.example', redirect_uris: ['https://app.elsewhere.example/cb'] }),
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: string; error_description: string };
      expect(body.error).toBe('invalid_client_metadata');
      expect(body.error_description).toContain('policy.client_registration');
      // The allowed host registers (and an identical registration gets the same client back).
      expect(await registerClient(cw.url, allowedClient)).toBe(clientId);
    });

    it('refuses the device grant: at registration, at /oauth2/device and at the token endpoint', async () => {
      const reg = await fetch(`${cw.url}/oauth2/registration`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...allowedClient, client_name: 'TV app', grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'] }),
      });
      expect(reg.status).toBe(400);
      expect(((await reg.json()) as { error_description: string }).error_description).toContain('policy.device_code_grant');
      const device = await postForm(`${cw.url}/oauth2/device`, { client_id: clientId, scope: 'openid' });
      expect(device.status).toBe(400);
      expect(device.json).toMatchObject({ error: 'unauthorized_client' });
      expect(String(device.json.error_description)).toContain('policy.device_code_grant');
      const token = await postForm(`${cw.url}/oauth2/token`, { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: 'x', client_id: clientId });
      expect(token.status).toBe(400);
      expect(token.json).toMatchObject({ error: 'unsupported_grant_type' });
      expect((await fetch(`${cw.url}/link`)).status).toBe(404);
    });

    it('never grants urn:synapse:admin:* to a dynamically registered client (policy.dynamic_client_denied_scopes)', async () => {
      const browser = new Browser();
      const res = await browser.go(authorizeUrl(cw.url, { clientId, challenge: pkce().challenge, scopePrefix: 'urn:synapse:admin:*', extra: { provider: 'dev' } }), {}, toClient);
      const back = new URL(res.stoppedAt!);
      expect(back.searchParams.get('error')).toBe('invalid_scope');
      expect(back.searchParams.get('error_description')).toContain('policy.dynamic_client_denied_scopes');
    });
  });

  describe('registration modes', () => {
    it('prompt=create offers only the providers that may create accounts', async () => {
      const res = await new Browser().go(authorizeUrl(cw.url, { clientId, challenge: pkce().challenge, prompt: 'create' }));
      expect(res.status).toBe(200);
      const text = textOf(res.body);
      expect(text).toContain('Create an account');
      expect(text).toContain('Open sign-in');
      expect(text).toContain('Pick a name');
      for (const closed of ['Staff sign-in', 'Legacy sign-in', 'Example IdP']) expect(text).not.toContain(closed);
    });

    it('existing_only refuses a new person (no account is created) and admits a pre-provisioned one', async () => {
      const refused = await devLogin('existing', 'newcomer');
      expect(refused.res.status).toBe(403);
      expect(textOf(refused.res.body)).toContain('There is no account here for your Staff sign-in identity');
      expect(await userIdOf('newcomer')).toBeUndefined();

      const id = await data.createUser('preprov');
      const admitted = await devLogin('existing', 'preprov');
      const { code } = codeOf(admitted.res.stoppedAt!);
      const tokens = await exchange(cw.url, clientId, code!, admitted.verifier);
      expect(tokens.status).toBe(200);
      const who = await fetch(`${hs.url}/_matrix/client/v3/account/whoami`, { headers: { authorization: `Bearer ${tokens.json.access_token}` } });
      expect(((await who.json()) as { user_id: string }).user_id).toBe(`@preprov:${hs.serverName}`);
      expect(await userIdOf('preprov')).toBe(id);
      // Linked now (on_conflict: set): the next sign-in finds the link.
      const again = await devLogin('existing', 'preprov');
      expect(codeOf(again.res.stoppedAt!).code).toBeTruthy();
    });

    it('disabled signs in linked identities only, never links or creates', async () => {
      await data.createUser('legacyuser');
      const refused = await devLogin('closed', 'legacyuser');
      expect(refused.res.status).toBe(403);
      expect(textOf(refused.res.body)).toContain('cannot be used to create or link accounts');
      // A link of this provider (as an import or the admin API would make it) signs in.
      const userId = (await userIdOf('legacyuser'))!;
      await data.ds.query(
        db === 'postgres'
          ? 'INSERT INTO upstream_links (id, provider_id, subject, user_id, created_at) VALUES ($1, $2, $3, $4, $5)'
          : 'INSERT INTO upstream_links (id, provider_id, subject, user_id, created_at) VALUES (?, ?, ?, ?, ?)',
        [`01LINK${randomBytes(10).toString('hex').toUpperCase()}`.slice(0, 26), 'closed', 'legacyuser', userId, Date.now()],
      );
      const ok = await devLogin('closed', 'legacyuser');
      expect(codeOf(ok.res.stoppedAt!).code).toBeTruthy();
    });

    it('through the real OIDC peer: existing_only refuses bob and admits alice, pre-provisioned', async () => {
      await withPeerUser(peer, 'bob', async () => {
        const browser = new Browser();
        let res = await browser.go(authorizeUrl(cw.url, { clientId, challenge: pkce().challenge, extra: { provider: 'peer' } }), {}, toClient);
        res = await browser.submit(
          onlyForm(res, (f) => 'password' in f.fields),
          { username: 'bob', password: 'bobpass' },
          toClient,
        );
        expect(res.status).toBe(403);
        expect(textOf(res.body)).toContain('There is no account here for your Example IdP identity');
        expect(await userIdOf('bob')).toBeUndefined();
      });
      const aliceId = await data.createUser('alice');
      await withPeerUser(peer, 'alice', async () => {
        const browser = new Browser();
        const p = pkce();
        let res = await browser.go(authorizeUrl(cw.url, { clientId, challenge: p.challenge, extra: { provider: 'peer' } }), {}, toClient);
        res = await browser.submit(
          onlyForm(res, (f) => 'password' in f.fields),
          { username: 'alice', password: 'alicepass' },
          toClient,
        );
        if (!res.stoppedAt) res = await decide(browser, res, 'allow');
        const tokens = await exchange(cw.url, clientId, codeOf(res.stoppedAt!).code!, p.verifier);
        expect(tokens.status).toBe(200);
      });
      const links = (await data.ds.query(db === 'postgres' ? 'SELECT user_id FROM upstream_links WHERE provider_id = $1' : 'SELECT user_id FROM upstream_links WHERE provider_id = ?', ['peer'])) as { user_id: string }[];
      expect(links.map((l) => l.user_id)).toEqual([aliceId]);
    });
  });

  describe('identity rules', () => {
    it('refuses a forced localpart that a deny rule matches, naming the rule and not the value', async () => {
      const { res } = await devLogin('dev', 'testaccount');
      expect(res.status).toBe(403);
      const text = textOf(res.body);
      expect(text).toContain('policy.localpart_deny[0]');
      expect(text).not.toContain('testaccount');
      expect(await userIdOf('testaccount')).toBeUndefined();
    });

    it('refuses an email outside policy.email_domains, naming the rule and not the address', async () => {
      const { res } = await devLogin('dev', 'carol', 'carol@elsewhere.example');
      expect(res.status).toBe(403);
      const text = textOf(res.body);
      expect(text).toContain('policy.email_domains');
      expect(text).not.toContain('elsewhere.example');
      expect(await userIdOf('carol')).toBeUndefined();
      const ok = await devLogin('dev', 'carol', 'carol@example.org');
      expect(ok.res.stoppedAt).toBeDefined();
      expect(await userIdOf('carol')).toBeDefined();
    });

    it('on the registration page, a chosen username that breaks a rule gets the rule named', async () => {
      const { browser, res } = await devLogin('pick', 'whatever');
      const form = onlyForm(res, (f) => f.action.endsWith('/register'));
      const denied = await browser.submit(form, { localpart: 'test-pick' }, toClient);
      expect(denied.status).toBe(400);
      expect(textOf(denied.body)).toContain('policy.localpart_deny[0]');
      const disallowed = await browser.submit(
        onlyForm(denied, (f) => f.action.endsWith('/register')),
        { localpart: '9lives' },
        toClient,
      );
      expect(textOf(disallowed.body)).toContain('starts with a letter (policy.localpart_allow[0])');
      const fine = await browser.submit(
        onlyForm(disallowed, (f) => f.action.endsWith('/register')),
        { localpart: 'picked' },
        toClient,
      );
      const done = fine.stoppedAt ? fine : await decide(browser, fine, 'allow');
      expect(done.stoppedAt).toBeDefined();
      expect(await userIdOf('picked')).toBeDefined();
    });
  });
});
