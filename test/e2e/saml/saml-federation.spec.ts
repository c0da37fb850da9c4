import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import type { Browser as Chromium } from 'playwright-core';
import { syntheticName } from '../../../bench/saml-federation/aggregate.js';
import { Browser, forms, launchChromium, textOf } from '../../support/browser.js';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { CausewayDb, waitUntil } from '../../support/causeway-db.js';
import { TEST_DBS } from '../../support/databases.js';
import { FEDERATION_CERT_FILE, asFederationMember, federationAggregate, forgedIdpEntity } from '../../support/federation-aggregate.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { ensurePeer, type Peer } from '../../support/peers.js';
import { IDP_METADATA_PATH, makeSpKeys, registerSp } from '../../support/saml-peer.js';
import { fixtureKeys, responseXml, signAssertion } from '../../support/saml-forge.js';
import { registerClient } from '../../integration/oauth2/oauth-http.js';
import { authorizeUrl, CLIENT_URI, codeOf, exchange, pkce, webClient } from '../../integration/login/login-flow.js';

/**
 * A SAML federation provider end to end: one `kind: saml` entry with `federation:` over a signed
 * aggregate (the real SimpleSAMLphp IdP as a member, a second IdP whose key the test holds, and
 * 5,000 generated IdPs, signed with xmlsec1 by the test federation key). Headless Chromium without
 * JavaScript finds the SimpleSAMLphp IdP on the discovery page by name, signs in there, and ends
 * with a Causeway session, a code, tokens and the account on the homeserver stand-in. A response
 * from the other IdP to a request sent to SimpleSAMLphp is refused; a tampered aggregate is
 * refused at refresh and the last good copy keeps serving.
 */
const SYNTHETIC = 5000;
const PEER_NAME = 'Causeway Peer University';
const B_ENTITY = 'https://idp-b.example.edu/idp/shibboleth';
const idpB = fixtureKeys('idp');
let peer: Peer;
let hs: HomeserverStandin;
let cw: CausewayProcess;
let chromium: Chromium;
let clientId: string;
let peerEntityId: string;
let aggregateFile: string;
let goodAggregate: string;
const dir = mkdtempSync(join(tmpdir(), 'causeway-federation-e2e-'));
const unregister: Array<() => void> = [];

beforeAll(async () => {
  peer = await ensurePeer('saml');
  const peerMetadata = await (await fetch(`${peer.url}${IDP_METADATA_PATH}`)).text();
  peerEntityId = /entityID="([^"]+)"/.exec(peerMetadata)![1]!;
  const started = Date.now();
  goodAggregate = federationAggregate(
    [asFederationMember(peerMetadata, { displayName: PEER_NAME, scope: 'peer.example.org', logo: 'https://peer.example.org/logo.png' }), forgedIdpEntity(B_ENTITY, 'Other University B', idpB.cert)],
    SYNTHETIC,
  );
  console.log(`aggregate: ${SYNTHETIC + 2} IdPs, ${(goodAggregate.length / 2 ** 20).toFixed(1)} MiB, generated and signed in ${Date.now() - started} ms`);
  aggregateFile = join(dir, 'aggregate.xml');
  writeFileSync(aggregateFile, goodAggregate);

  const keys = makeSpKeys(dir);
  hs = await startHomeserverStandin({ secret: SHARED_SECRET, cache: false });
  cw = await startCauseway({
    db: TEST_DBS.includes('postgres') ? 'postgres' : 'sqlite',
    config: {
      matrix: { homeserver: hs.serverName, endpoint: `${hs.url}/`, secret: SHARED_SECRET },
      upstream: {
        providers: [
          {
            id: 'fed',
            kind: 'saml',
            name: 'Test federation',
            allow_insecure_http: true,
            federation: { metadata_file: aggregateFile, signing_cert_file: FEDERATION_CERT_FILE, refresh_interval: 5 },
            sp: { key_file: keys.keyFile, cert_file: keys.certFile },
          },
        ],
      },
    },
  });
  hs.setEndpoint(cw.issuer);
  // The server listens at once; the aggregate is read in the background.
  await waitUntil(async () => (await ready()).components['saml_metadata:fed']?.status === 'up', 300_000, 'the aggregate loaded', 500);
  unregister.push(registerSp(peer, await (await fetch(`${cw.url}/upstream/fed/saml/metadata`)).text()));
  clientId = await registerClient(cw.url, webClient('Federation test app'));
  chromium = await launchChromium();
}, 600_000);

afterAll(async () => {
  for (const u of unregister) u();
  await chromium?.close();
  await cw?.dispose();
  await hs?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const ready = async () => (await (await fetch(`${cw.url}/health/ready`)).json()) as { components: Record<string, { status: string; detail?: string }> };

describe('SAML federation', () => {
  it('loads the signed aggregate in the background: every IdP, health up with the count', async () => {
    const fed = (await ready()).components['saml_metadata:fed']!;
    expect(fed.status).toBe('up');
    expect(fed.detail).toContain(`${SYNTHETIC + 2} IdPs`);
    expect(cw.logs.some((l) => l.includes('SAML federation aggregate loaded') && l.includes(`"entities":${SYNTHETIC + 2}`))).toBe(true);
  });

  it('Chromium without JavaScript: discovery page → search by name → SimpleSAMLphp → a session and the account on the homeserver', async () => {
    const context = await chromium.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.route(`${CLIENT_URI}/**`, (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'app' }));
    const p = pkce();
    await page.goto(authorizeUrl(cw.url, { clientId, challenge: p.challenge, state: 'fed-state', deviceId: 'FEDERATE01' }));
    await page.waitForURL(/\/upstream\/fed\/saml\/discovery\?s=/);
    await expect(page.getByRole('heading', { name: 'Choose your organisation' }).isVisible()).resolves.toBe(true);
    expect(await page.getByRole('status').textContent()).toContain(`${SYNTHETIC + 2}`);

    await page.getByLabel('Organisation, domain or email address').fill('peer univ');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/q=peer\+univ/);
    const hit = page.getByRole('link', { name: PEER_NAME });
    expect(await hit.count()).toBe(1);
    // The logo is the https URL from mdui, loaded by the browser (never by Causeway), decorative.
    expect(await page.locator('ul.providers img').first().getAttribute('src')).toBe('https://peer.example.org/logo.png');
    await hit.click();

    // SimpleSAMLphp's login form, then its POST form back to Causeway's ACS (a button without JavaScript).
    await page.waitForURL((u) => u.href.startsWith(peer.url));
    await page.fill('input[name=username]', 'alice');
    await page.fill('input[name=password]', 'alicepass');
    await page.locator('button[type=submit], input[type=submit]').first().click();
    await page.waitForLoadState();
    // SimpleSAMLphp submits its SAMLResponse form with a script; without JavaScript the test posts
    // that form itself, with the browser context's cookies.
    const acs = forms(await page.content(), page.url()).find((f) => 'SAMLResponse' in f.fields);
    expect(acs?.action).toBe(`${cw.issuer}upstream/fed/callback`);
    const posted = await page.request.post(acs!.action, { form: acs!.fields, maxRedirects: 0 });
    expect(posted.status()).toBe(303);
    await page.goto(new URL(posted.headers().location!, cw.issuer).href);

    await page.waitForURL(/\/login\/[0-9A-Z]{26}$/);
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${CLIENT_URI}/**`);
    const back = codeOf(page.url());
    expect(back.state).toBe('fed-state');
    const cookies = await context.cookies(cw.url);
    expect(cookies.find((c) => c.name === 'causeway_idp_fed')).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    expect(cookies.some((c) => c.name === 'causeway_session')).toBe(true);

    // The remembered choice comes first the next time (a browser with that cookie and no session).
    const later = await chromium.newContext({ javaScriptEnabled: false });
    await later.addCookies(cookies.filter((c) => c.name === 'causeway_idp_fed'));
    const page2 = await later.newPage();
    await page2.goto(authorizeUrl(cw.url, { clientId, challenge: p.challenge, state: 'again', deviceId: 'FEDERATE02' }));
    await page2.waitForURL(/\/upstream\/fed\/saml\/discovery\?s=/);
    await expect(page2.getByRole('heading', { name: 'Your last choice' }).isVisible()).resolves.toBe(true);
    expect(await page2.getByRole('link', { name: PEER_NAME }).count()).toBe(1);
    await later.close();
    await context.close();

    const tokens = await exchange(cw.url, clientId, back.code!, p.verifier);
    expect(tokens.status).toBe(200);
    const me = await fetch(`${hs.url}/_matrix/client/v3/account/whoami`, { headers: { authorization: `Bearer ${tokens.json.access_token}` } });
    expect(await me.json()).toEqual(expect.objectContaining({ user_id: '@alice:example.test', device_id: 'FEDERATE01' }));
    await waitUntil(() => hs.user('alice')?.displayName === 'Alice Liddell', 30_000, 'the display name on the homeserver');

    // One link namespace per IdP: the link's subject is scoped by the entity ID.
    const db = await CausewayDb.open(cw.database);
    const links = (await db.ds.query('SELECT provider_id, subject FROM upstream_links')) as { provider_id: string; subject: string }[];
    await db.ds.destroy();
    const fedLinks = links.filter((l) => l.provider_id === 'fed');
    expect(fedLinks).toHaveLength(1);
    expect(fedLinks[0]!.subject.startsWith(`${peerEntityId}|`)).toBe(true);
  }, 180_000);

  it('finds IdPs by domain (an email address) and by entity ID, in pages of 20', async () => {
    const browser = new Browser();
    const p = pkce();
    const start = await browser.go(authorizeUrl(cw.url, { clientId, challenge: p.challenge, state: 's', deviceId: 'FEDERATE03' }), {}, (u) => u.includes('/saml/discovery?'));
    const discovery = new URL(start.stoppedAt!);
    const search = async (q: string, page = 1) => {
      const u = new URL(discovery);
      u.searchParams.set('q', q);
      if (page > 1) u.searchParams.set('page', String(page));
      const res = await browser.go(u.href);
      expect(res.status).toBe(200);
      return textOf(res.body);
    };
    expect(await search('alice@peer.example.org')).toContain(PEER_NAME);
    expect(await search('someone@students.peer.example.org')).toContain(PEER_NAME);
    const n = syntheticName(1234);
    const byId = await search(`https://${n.domain}/idp/shibboleth`);
    expect(byId).toContain(n.name);
    expect(byId).toContain('Organisations found: 1');
    expect(await search('zürich')).toContain('Zurich');
    const all = await search('');
    expect(all).toContain('Page 1 of 251');
    expect(await search('', 251)).toContain('Page 251 of 251');
    expect(await search('no such organisation anywhere')).toContain('No organisation matches');
  });

  it('refuses a response from IdP B to the request sent to the chosen IdP (SimpleSAMLphp)', async () => {
    const spEntityId = `${cw.issuer}upstream/fed/saml/metadata`;
    const acsUrl = `${cw.issuer}upstream/fed/callback`;
    /** A sign-in that chose SimpleSAMLphp, stopped where the browser would go there. */
    const chosePeer = async () => {
      const browser = new Browser();
      const p = pkce();
      const start = await browser.go(authorizeUrl(cw.url, { clientId, challenge: p.challenge, state: 's', deviceId: 'FEDERATE04' }), {}, (u) => u.includes('/saml/discovery?'));
      const s = new URL(start.stoppedAt!).searchParams.get('s')!;
      const toIdp = await browser.go(`${cw.url}/upstream/fed/saml/discovery/choose?s=${s}&entityID=${encodeURIComponent(peerEntityId)}`, {}, (u) => u.startsWith(peer.url));
      const authn = new URL(toIdp.stoppedAt!);
      const request = inflateRawSync(Buffer.from(authn.searchParams.get('SAMLRequest')!, 'base64')).toString();
      return { browser, requestId: /ID="([^"]+)"/.exec(request)![1]!, relayState: authn.searchParams.get('RelayState')! };
    };
    const forged = (issuer: string, requestId: string) =>
      Buffer.from(signAssertion(responseXml({ idpEntityId: issuer, spEntityId, acsUrl, inResponseTo: requestId, nameId: 'alice-at-b', attributes: [{ name: 'uid', values: ['alice'] }] }), idpB)).toString('base64');

    // B's own, correctly signed response: not the IdP this sign-in chose.
    const one = await chosePeer();
    const fromB = await one.browser.go(acsUrl, { method: 'POST', form: { SAMLResponse: forged(B_ENTITY, one.requestId), RelayState: one.relayState } });
    expect(fromB.status).toBeGreaterThanOrEqual(400);
    expect(textOf(fromB.body)).toMatch(/another identity provider/);

    // B's key, naming the chosen IdP as Issuer: B's certificates are not the chosen IdP's.
    const two = await chosePeer();
    const posing = await two.browser.go(acsUrl, { method: 'POST', form: { SAMLResponse: forged(peerEntityId, two.requestId), RelayState: two.relayState } });
    expect(posing.status).toBeGreaterThanOrEqual(400);
    expect(textOf(posing.body)).toMatch(/signature/);
    expect(hs.user('alice-at-b')).toBeUndefined();
  });

  it('a tampered aggregate is refused at refresh: the last good copy keeps serving; health, log and metric say so', async () => {
    const tampered = goodAggregate.replace(`<mdui:DisplayName xml:lang="en">${PEER_NAME}</mdui:DisplayName>`, '<mdui:DisplayName xml:lang="en">Evil University</mdui:DisplayName>');
    expect(tampered).not.toBe(goodAggregate);
    writeFileSync(aggregateFile, tampered);
    await waitUntil(async () => ((await ready()).components['saml_metadata:fed']!.detail ?? '').includes('last refresh failed'), 60_000, 'the refused refresh on /health/ready');
    const fed = (await ready()).components['saml_metadata:fed']!;
    expect(fed.status).toBe('degraded');
    expect(fed.detail).toMatch(/digest mismatch/);
    expect(fed.detail).toContain(`${SYNTHETIC + 2} IdPs`);
    expect(cw.logs.some((l) => l.includes('SAML federation refresh failed; keeping the last good copy'))).toBe(true);
    const metrics = await (await fetch(`${cw.url}/metrics`)).text();
    expect(metrics).toMatch(/causeway_saml_federation_refresh_ok\{provider="fed"\} 0/);
    expect(metrics).toMatch(new RegExp(`causeway_saml_federation_idps\\{provider="fed"\\} ${SYNTHETIC + 2}`));

    // Discovery still shows the signed name, not the tampered one.
    const browser = new Browser();
    const p = pkce();
    const start = await browser.go(authorizeUrl(cw.url, { clientId, challenge: p.challenge, state: 's', deviceId: 'FEDERATE05' }), {}, (u) => u.includes('/saml/discovery?'));
    const page = await browser.go(`${start.stoppedAt!}&q=causeway+peer`);
    expect(textOf(page.body)).toContain(PEER_NAME);
    expect(textOf(page.body)).not.toContain('Evil University');

    // The good aggregate back: up again.
    writeFileSync(aggregateFile, goodAggregate);
    await waitUntil(async () => (await ready()).components['saml_metadata:fed']!.status === 'up', 60_000, 'health up again');
  }, 120_000);
});
