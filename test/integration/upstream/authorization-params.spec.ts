import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { Browser, forms, textOf } from '../../support/browser.js';
import { oidcPeerWithClients, removeOidcPeerClients, withPeerUser } from '../../support/oidc-peer.js';
import type { Peer } from '../../support/peers.js';
import { freePort } from '../../support/ports.js';
import { registerClient } from '../oauth2/oauth-http.js';
import { authorizeUrl, decide, pkce, toClient, webClient } from '../login/login-flow.js';

/**
 * Templated `authorization_params` reach the IdP: the real oidc-provider peer logs every
 * authorization request it receives (test/peers/oidc-idp, authorization-requests.log), and the test
 * reads what Causeway sent for its own client: `acr_values` forwarded from the app's request, and
 * `prompt=login` only for the first sign-in after a sign-out at Causeway.
 */

const RUN = randomBytes(4).toString('hex');
const CLIENT = `templated-${RUN}`;
let peer: Peer;
let cw: CausewayProcess;
let hs: HomeserverStandin;
let clientId: string;

beforeAll(async () => {
  const port = await freePort();
  peer = await oidcPeerWithClients({ client_id: CLIENT, client_secret: 'templated-secret', redirect_uris: [`http://127.0.0.1:${port}/upstream/peer/callback`] });
  hs = await startHomeserverStandin({ serverName: 'example.test', endpoint: `http://127.0.0.1:${port}/`, secret: SHARED_SECRET });
  cw = await startCauseway({
    port,
    config: {
      matrix: { homeserver: 'example.test', endpoint: `${hs.url}/`, secret: SHARED_SECRET },
      upstream: {
        providers: [
          {
            id: 'peer',
            kind: 'oidc',
            name: 'Peer',
            issuer: peer.url,
            client_id: CLIENT,
            client_secret: 'templated-secret',
            allow_insecure_http: true,
            authorization_params: {
              acr_values: '{{ request.acr_values }}',
              prompt: '{% if request.logged_out %}login{% endif %}',
              ui_locales: 'en',
            },
          },
        ],
      },
    },
  });
  clientId = await registerClient(cw.url, webClient('Templated params app'));
}, 600_000);

afterAll(async () => {
  if (peer) await removeOidcPeerClients(peer, CLIENT);
  await cw?.dispose();
  await hs?.stop();
});

/** The authorization requests the peer received from this file's client, oldest first. */
function sentToPeer(): Record<string, string>[] {
  const lines = readFileSync(join(peer.stateDir, 'authorization-requests.log'), 'utf8').split('\n').filter(Boolean);
  return lines.map((l) => (JSON.parse(l) as { params: Record<string, string> }).params).filter((p) => p.client_id === CLIENT);
}

/** /authorize → the peer (its login form when it asks for one) → back through Causeway to the app. */
async function signIn(browser: Browser, extra: Record<string, string> = {}) {
  const p = pkce();
  let res = await browser.go(authorizeUrl(cw.url, { clientId, challenge: p.challenge, extra }), {}, toClient);
  const askedForPassword = res.url.startsWith(peer.url) && forms(res.body, res.url).some((f) => 'password' in f.fields);
  if (askedForPassword) res = await browser.submit(forms(res.body, res.url)[0]!, { username: 'alice', password: 'alicepass' }, toClient);
  if (!res.stoppedAt && forms(res.body, res.url).some((f) => f.action.endsWith('/consent'))) res = await decide(browser, res, 'allow');
  if (!res.stoppedAt) throw new Error(`stopped at ${res.url} (${res.status}): ${textOf(res.body).slice(0, 300)}`);
  return { askedForPassword };
}

describe('templated authorization parameters at the oidc-provider peer', () => {
  it('forwards acr_values; prompt=login only on the first sign-in after a sign-out', () =>
    withPeerUser(peer, 'alice', async () => {
      const browser = new Browser();
      const before = sentToPeer().length;
      expect((await signIn(browser, { acr_values: 'urn:example:mfa' })).askedForPassword).toBe(true);
      const first = sentToPeer().slice(before);
      expect(first).toHaveLength(1);
      expect(first[0]).toMatchObject({ acr_values: 'urn:example:mfa', ui_locales: 'en' });
      expect(first[0]!.prompt).toBeUndefined();

      // Sign out at Causeway (the peer's own session stays).
      const confirm = await browser.go(`${cw.url}/end-session`);
      expect(textOf(confirm.body)).toMatch(/sign out/i);
      const out = await browser.submit(forms(confirm.body, confirm.url).find((f) => f.method === 'POST')!);
      expect(out.status).toBeLessThan(500);
      expect((await browser.jar.getCookies(cw.url)).map((c) => c.key)).toContain('causeway_signed_out');

      // The next sign-in asks the IdP to re-authenticate: the peer shows its password form again.
      const second = await signIn(browser);
      const after = sentToPeer().slice(before + 1);
      expect(after[0]).toMatchObject({ prompt: 'login' });
      expect(after[0]!.acr_values).toBeUndefined();
      expect(second.askedForPassword).toBe(true);

      // Signed in again: the flag is gone (it was there between the sign-out and this sign-in).
      const cookies = await browser.jar.getCookies(cw.url);
      expect(cookies.map((c) => c.key)).toContain('causeway_session');
      expect(cookies.map((c) => c.key)).not.toContain('causeway_signed_out');
    }));
});
