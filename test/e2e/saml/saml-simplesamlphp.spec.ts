import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createClient, generateScope, OAuth2, type ValidatedAuthMetadata } from 'matrix-js-sdk';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { Browser, forms, textOf, type BrowserResponse } from '../../support/browser.js';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { ensurePeer, type Peer } from '../../support/peers.js';
import { freePort } from '../../support/ports.js';
import { IDP_METADATA_PATH, idpLogin, makeSpKeys, registerSp } from '../../support/saml-peer.js';

/**
 * End to end against the real SimpleSAMLphp IdP: a Matrix client (OAuth 2.0 authorization code +
 * PKCE, as matrix-js-sdk does it) signs in through Causeway → SimpleSAMLphp login → ACS → token →
 * whoami on the homeserver stand-in; with a signed AuthnRequest and an encrypted assertion (`ssp`),
 * and with neither (`ssp-plain`); an attribute requirement that bob fails; SP-initiated and
 * IdP-initiated Single Logout end the Causeway session and reach the homeserver.
 */
const APP = 'http://127.0.0.1:9/app';
const REDIRECT_URI = `${APP}/callback`;
let metadata: ValidatedAuthMetadata;
let peer: Peer;
let hs: HomeserverStandin;
let cw: CausewayProcess;
let clientId: string;
const dir = mkdtempSync(join(tmpdir(), 'causeway-saml-e2e-'));
const unregister: Array<() => void> = [];

beforeAll(async () => {
  peer = await ensurePeer('saml');
  const keys = makeSpKeys(dir);
  const port = await freePort();
  hs = await startHomeserverStandin({ serverName: 'example.test', secret: SHARED_SECRET, endpoint: `http://127.0.0.1:${port}/` });
  const sp = (id: string, extra: Record<string, unknown>) => ({
    id,
    kind: 'saml',
    name: `SimpleSAMLphp (${id})`,
    metadata_url: `${peer.url}${IDP_METADATA_PATH}`,
    allow_insecure_http: true,
    sp: { key_file: keys.keyFile, cert_file: keys.certFile, ...(extra.sp as object) },
    ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'sp')),
  });
  cw = await startCauseway({
    port,
    config: {
      matrix: { homeserver: 'example.test', endpoint: `${hs.url}/`, secret: SHARED_SECRET },
      upstream: {
        providers: [
          sp('ssp', {
            sp: { sign_requests: true, encrypted_assertions: 'required' },
            attribute_requirements: [{ attribute: 'eduPersonAffiliation', contains: 'staff' }],
            claims: { localpart: { action: 'force', template: '{{ user.uid }}' }, displayname: { template: '{{ user.displayName }}' } },
          }),
          sp('ssp-plain', { sp: { sign_requests: false, encrypted_assertions: 'off' }, on_conflict: 'link' }),
        ],
      },
    },
  });
  for (const id of ['ssp', 'ssp-plain']) {
    const md = await fetch(`${cw.url}/upstream/${id}/saml/metadata`);
    unregister.push(registerSp(peer, await md.text()));
  }
  // The Matrix client discovers Causeway through the homeserver and registers itself (MSC2966).
  metadata = await createClient({ baseUrl: hs.url }).getAuthMetadata();
  clientId = await OAuth2.registerClient(metadata, { client_name: 'SAML e2e client', client_uri: `${APP}/`, redirect_uris: [REDIRECT_URI], application_type: 'web' });
}, 600_000);

afterAll(async () => {
  for (const u of unregister) u();
  await cw?.dispose();
  await hs?.stop();
  rmSync(dir, { recursive: true, force: true });
  if (cw) expect(cw.logs.filter((l) => l.includes('"status":500') || l.includes('unhandled error'))).toEqual([]);
});

interface SignedIn {
  browser: Browser;
  accessToken: string;
  /** For RP-initiated logout back to the client (`id_token_hint`): the sign-in asks for `openid`. */
  idToken: string;
  deviceId: string;
  /** The SAMLResponse as the IdP sent it to the ACS. */
  samlResponseXml: string;
  /** The AuthnRequest redirect Causeway sent to the IdP. */
  authnRequest: URL;
}

const isClientRedirect = (u: string) => u.startsWith(REDIRECT_URI);

/** A Matrix client's sign-in through Causeway and SimpleSAMLphp, up to the access token. */
async function signIn(provider: string, user: { username: string; password: string }, browser = new Browser()): Promise<SignedIn | { refused: BrowserResponse }> {
  // matrix-js-sdk builds the authorization URL (PKCE S256, device scope); `provider` picks the IdP.
  const oauth = new OAuth2(metadata, { clientId });
  const state = randomBytes(8).toString('hex');
  const authorize = new URL(await oauth.generateAuthorizationCodeGrantUrl(state, REDIRECT_URI, 'query', undefined, `openid ${generateScope(oauth.context.deviceId)}`));
  authorize.searchParams.set('provider', provider);
  const deviceId = oauth.context.deviceId!;

  // Causeway → the IdP (AuthnRequest over HTTP-Redirect).
  const toIdp = await browser.go(authorize.href, {}, (u) => u.startsWith(peer.url));
  expect(toIdp.stoppedAt).toBeDefined();
  const authnRequest = new URL(toIdp.stoppedAt!);
  const atIdp = await browser.go(authnRequest.href);
  // The IdP's login form, then its auto-submitting form to the ACS.
  const acs = await idpLogin(browser, atIdp, user);
  expect(acs.action).toBe(`${cw.issuer}upstream/${provider}/callback`);
  const samlResponseXml = Buffer.from(acs.fields.SAMLResponse!, 'base64').toString('utf8');
  let page = await browser.go(acs.action, { method: 'POST', form: acs.fields }, isClientRedirect);
  // Consent, the first time this client asks.
  for (let i = 0; i < 2 && !page.stoppedAt; i++) {
    const consent = forms(page.body, page.url).find((f) => 'decision' in f.buttons);
    if (!consent) return { refused: page };
    page = await browser.submit(consent, { decision: 'allow' }, isClientRedirect);
  }
  const back = new URL(page.stoppedAt!);
  expect(back.searchParams.get('state')).toBe(state);
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`no code: ${back.href}`);
  const tokens = (await oauth.completeAuthorizationCodeGrant(code, REDIRECT_URI)) as { access_token: string; id_token?: string };
  return { browser, accessToken: tokens.access_token, idToken: tokens.id_token ?? '', deviceId, samlResponseXml, authnRequest };
}

/** whoami at the homeserver, as the Matrix client does it. */
const whoami = (token: string) => createClient({ baseUrl: hs.url, accessToken: token }).whoami();

async function introspect(token: string): Promise<boolean> {
  const res = await fetch(`${cw.url}/oauth2/introspect`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${SHARED_SECRET}` },
    body: new URLSearchParams({ token }),
  });
  return ((await res.json()) as { active: boolean }).active;
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function signedIn(r: SignedIn | { refused: BrowserResponse }): SignedIn {
  if ('refused' in r) throw new Error(`sign-in refused: ${r.refused.status} ${textOf(r.refused.body)}`);
  return r;
}

describe('SAML sign-in through SimpleSAMLphp', () => {
  it('alice: signed AuthnRequest, encrypted assertion → token → whoami on the homeserver', async () => {
    const s = signedIn(await signIn('ssp', { username: 'alice', password: 'alicepass' }));
    expect(s.authnRequest.searchParams.get('SigAlg')).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    expect(s.authnRequest.searchParams.get('Signature')).toBeTruthy();
    const request = inflateRawSync(Buffer.from(s.authnRequest.searchParams.get('SAMLRequest')!, 'base64')).toString();
    expect(request).toContain('urn:oasis:names:tc:SAML:2.0:nameid-format:persistent');
    expect(s.samlResponseXml).toContain('EncryptedAssertion');
    expect(s.samlResponseXml).not.toContain('<saml:Assertion');
    expect(await whoami(s.accessToken)).toMatchObject({ user_id: '@alice:example.test', device_id: s.deviceId });
    // The profile follows through the event bus.
    await until('the display name on the homeserver', () => (hs.user('alice')?.displayName === 'Alice Liddell' ? true : undefined));
  });

  it('alice again through the plain provider: unsigned request, clear signed assertion, linked to the same account', async () => {
    const s = signedIn(await signIn('ssp-plain', { username: 'alice', password: 'alicepass' }));
    expect(s.authnRequest.searchParams.get('Signature')).toBeNull();
    expect(s.samlResponseXml).toMatch(/<saml:Assertion[^>]*>/);
    expect(s.samlResponseXml).not.toContain('EncryptedAssertion');
    expect((await whoami(s.accessToken)).user_id).toBe('@alice:example.test');
  });

  it('bob is refused: the eduPersonAffiliation requirement fails (a clear page, no account)', async () => {
    const r = await signIn('ssp', { username: 'bob', password: 'bobpass' });
    expect('refused' in r).toBe(true);
    const page = (r as { refused: BrowserResponse }).refused;
    expect(page.status).toBe(403);
    expect(textOf(page.body)).toMatch(/eduPersonAffiliation/);
    expect(hs.user('bob')).toBeUndefined();
  });
});

describe('SAML Single Logout with SimpleSAMLphp', () => {
  it('SP-initiated: signing out of Causeway ends the session, the IdP session and the device on the homeserver', async () => {
    const s = signedIn(await signIn('ssp', { username: 'alice', password: 'alicepass' }));
    expect(await introspect(s.accessToken)).toBe(true);
    expect(hs.devices('alice')).toContain(s.deviceId);

    // RP-initiated logout at Causeway: the confirmation page, then the IdP's SLO and back.
    const confirm = await s.browser.go(`${cw.url}/end-session?client_id=${clientId}&id_token_hint=${s.idToken}&post_logout_redirect_uri=${encodeURIComponent(REDIRECT_URI)}&state=bye`);
    const form = forms(confirm.body, confirm.url).find((f) => f.method === 'POST');
    if (!form) throw new Error(`no logout form: ${confirm.status} ${confirm.url} ${textOf(confirm.body)}`);
    const out = await s.browser.submit(form, {}, isClientRedirect);
    expect(out.stoppedAt).toBe(`${REDIRECT_URI}?state=bye`);
    const trail = s.browser.history.join('\n');
    expect(trail).toMatch(new RegExp(`GET ${peer.url.replace(/[.]/g, '\\.')}/saml2/idp/SingleLogoutService\\.php\\?SAMLRequest=`));
    expect(trail).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/upstream\/ssp\/saml\/slo\?SAMLResponse=/);

    expect(await introspect(s.accessToken)).toBe(false);
    await until('the device removed from the homeserver', () => (hs.devices('alice').includes(s.deviceId) ? undefined : true));
    await expect(whoami(s.accessToken)).rejects.toMatchObject({ httpStatus: 401 });
    // The IdP session is over too: the next sign-in shows its login form again.
    const again = await s.browser.go(
      `${cw.url}/authorize?response_type=code&client_id=${clientId}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&scope=${encodeURIComponent('urn:matrix:client:api:* urn:matrix:client:device:AGAIN12345')}&state=s&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256&provider=ssp`,
      {},
      isClientRedirect,
    );
    if (again.stoppedAt) throw new Error(`not sent to the IdP: ${again.stoppedAt}`);
    expect(forms(again.body, again.url).some((f) => 'password' in f.fields)).toBe(true);
  });

  it('IdP-initiated: a LogoutRequest from SimpleSAMLphp ends the Causeway session and reaches the homeserver', async () => {
    const s = signedIn(await signIn('ssp', { username: 'alice', password: 'alicepass' }));
    expect(await introspect(s.accessToken)).toBe(true);
    const returnTo = `${peer.url}/saml2/idp/metadata.php?after-logout`;
    const done = await s.browser.go(`${peer.url}/saml2/idp/SingleLogoutService.php?ReturnTo=${encodeURIComponent(returnTo)}`, {}, (u) => u === returnTo);
    expect(done.stoppedAt).toBe(returnTo);
    const trail = s.browser.history.join('\n');
    expect(trail).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/upstream\/ssp\/saml\/slo\?SAMLRequest=.*&Signature=/);
    expect(await introspect(s.accessToken)).toBe(false);
    await until('the device removed from the homeserver', () => (hs.devices('alice').includes(s.deviceId) ? undefined : true));
    await expect(whoami(s.accessToken)).rejects.toMatchObject({ httpStatus: 401 });
  });
});
