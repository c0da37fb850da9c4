import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Browser, forms, type BrowserResponse } from '../support/browser.js';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../support/causeway.js';
import { waitUntil } from '../support/causeway-db.js';
import { startHomeserverStandin, type HomeserverStandin } from '../support/homeserver-standin.js';
import { oidcPeerWithClients, removeOidcPeerClients, setOidcPeerUser } from '../support/oidc-peer.js';
import type { Peer } from '../support/peers.js';
import { freePort } from '../support/ports.js';
import { authorizeUrl, codeOf, exchange, pkce, toClient, webClient } from '../integration/login/login-flow.js';
import { registerClient } from '../integration/oauth2/oauth-http.js';
import { ADMIN, adminCall, whoamiAt, type Json } from '../integration/admin/admin-http.js';

/**
 * The admin API with a real IdP (the oidc-provider peer): a user pre-provisioned with an upstream
 * link lands on that account at their first sign-in; admin rights follow an IdP group at each
 * sign-in, and leaving the group ends the session that held urn:synapse:admin:*.
 */
const RUN = randomBytes(3).toString('hex');
const CLIENT_ID = `causeway-admin-e2e-${RUN}`;
const CLIENT_SECRET = randomBytes(16).toString('hex');
const HANK = `hank${RUN}`;
const GRACE = `grace${RUN}`;
const claims = (name: string, groups: string[]) => ({ preferred_username: name, name: name.toUpperCase(), email: `${name}@example.org`, email_verified: true, groups });

let peer: Peer;
let hs: HomeserverStandin;
let cw: CausewayProcess;
let clientId: string;

beforeAll(async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}/`;
  peer = await oidcPeerWithClients({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [`${base}upstream/corp/callback`] });
  await setOidcPeerUser(peer, HANK, { password: 'hankpass', claims: claims(HANK, ['staff']) });
  await setOidcPeerUser(peer, GRACE, { password: 'gracepass', claims: claims(GRACE, ['staff', 'matrix-admins']) });
  hs = await startHomeserverStandin({ endpoint: base, secret: SHARED_SECRET });
  cw = await startCauseway({
    port,
    config: {
      matrix: { endpoint: `${hs.url}/`, secret: SHARED_SECRET },
      admin: { token: ADMIN },
      // Its client registers dynamically: let it ask for urn:synapse:admin:* (refused to dynamic clients by default).
      policy: { dynamic_client_denied_scopes: [] },
      upstream: {
        providers: [
          {
            id: 'corp',
            kind: 'oidc',
            name: 'Corp IdP',
            issuer: peer.url,
            client_id: CLIENT_ID,
            client_secret: CLIENT_SECRET,
            allow_insecure_http: true,
            scopes: ['openid', 'profile', 'email', 'groups'],
            claims: { localpart: { template: '{{ user.preferred_username }}' } },
            admin: { attribute: 'groups', contains: 'matrix-admins' },
          },
        ],
      },
    },
  });
  clientId = await registerClient(cw.url, webClient('Admin e2e client'));
}, 600_000);

afterAll(async () => {
  if (peer) {
    await removeOidcPeerClients(peer, CLIENT_ID);
    await setOidcPeerUser(peer, HANK, undefined);
    await setOidcPeerUser(peer, GRACE, undefined);
  }
  await cw?.dispose();
  await hs?.stop();
});

/** A person in a fresh browser: through Causeway to the peer's form, signs in, allows the client. Returns the client's tokens (or the error). */
async function signIn(user: string, deviceId: string, extraScope = ''): Promise<{ tokens?: Json; error?: string | null }> {
  const p = pkce();
  const url = new URL(authorizeUrl(cw.url, { clientId, deviceId, challenge: p.challenge, extra: { provider: 'corp' } }));
  if (extraScope) url.searchParams.set('scope', `${url.searchParams.get('scope')} ${extraScope}`);
  const browser = new Browser();
  let res: BrowserResponse & { stoppedAt?: string } = await browser.go(url.href, {}, toClient);
  for (let step = 0; step < 6 && !res.stoppedAt; step++) {
    const form = forms(res.body, res.url)[0];
    expect([res.status, !!form]).toEqual([200, true]);
    if (res.url.startsWith(peer.url) && 'password' in form!.fields) res = await browser.submit(form!, { username: user, password: user.replace(RUN, '') + 'pass' }, toClient);
    else if (form!.action.endsWith('/consent')) res = await browser.submit(form!, { decision: 'allow' }, toClient);
    else throw new Error(`unexpected page at ${res.url}`);
  }
  const { code, error } = codeOf(res.stoppedAt!);
  if (!code) return { error };
  const t = await exchange(cw.url, clientId, code, p.verifier);
  expect(t.status).toBe(200);
  return { tokens: t.json as Json };
}

const whoami = (token: string) => whoamiAt(hs.url, token);

describe('admin API with a real IdP', () => {
  it('a pre-provisioned user’s first sign-in through the IdP lands on that account', async () => {
    const created = await adminCall(cw.url, 'POST', '/users', { localpart: HANK, display_name: 'Hank', links: [{ provider: 'corp', subject: HANK }] });
    expect(created.status).toBe(201);
    const { tokens } = await signIn(HANK, 'HANKDEV1');
    expect(await whoami(tokens!.access_token as string)).toBe(200);
    const shown = await adminCall(cw.url, 'GET', `/users/${HANK}`);
    expect(shown.json).toMatchObject({ id: created.json.id, links: [{ provider: 'corp', subject: HANK }], active_sessions: 1 });
    expect(((await adminCall(cw.url, 'GET', '/users?provider=corp')).json.data as Json[]).map((u) => u.localpart)).toEqual([HANK]);
  });

  it('admin right from an IdP group: granted at sign-in, dropped at the next sign-in after leaving the group, ending the admin session', async () => {
    const first = await signIn(GRACE, 'GRACEADM', 'urn:synapse:admin:*');
    expect(String(first.tokens!.scope)).toContain('urn:synapse:admin:*');
    const adminToken = first.tokens!.access_token as string;
    expect(await hs.authenticate(adminToken)).toMatchObject({ isAdmin: true });
    expect((await adminCall(cw.url, 'GET', `/users/${GRACE}`)).json).toMatchObject({ idp_admin: true, admin: true, can_request_admin: false });

    await setOidcPeerUser(peer, GRACE, { password: 'gracepass', claims: claims(GRACE, ['staff']) });
    const second = await signIn(GRACE, 'GRACEDEV');
    expect(await whoami(second.tokens!.access_token as string)).toBe(200);
    expect((await adminCall(cw.url, 'GET', `/users/${GRACE}`)).json).toMatchObject({ idp_admin: false, admin: false });
    await waitUntil(async () => (await whoami(adminToken)) === 401, 10_000, 'the admin session’s device to leave the homeserver');
    const rows = (await adminCall(cw.url, 'GET', `/audit?user=${GRACE}`)).json.data as Json[];
    expect(rows.map((r) => [r.action, r.actor])).toEqual(
      expect.arrayContaining([
        ['user.idp_admin.grant', 'upstream:corp'],
        ['user.idp_admin.revoke', 'upstream:corp'],
        ['oauth2_session.end', 'upstream:corp'],
      ]),
    );
    expect((await signIn(GRACE, 'GRACEAD2', 'urn:synapse:admin:*')).error).toBe('invalid_scope');
  });
});
