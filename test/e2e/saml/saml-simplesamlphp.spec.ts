import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
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
const REDIRECT_URI = 'http://localhost:3000/callback';
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
  const reg = await fetch(`${cw.url}/oauth2/registration`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'SAML e2e client',
      client_uri: 'http://localhost:3000',
      application_type: 'web',
      // Also where the client returns after signing out (end-session accepts the client's redirect URIs).
      redirect_uris: [REDIRECT_URI, 'http://localhost:3000/logged-out'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    }),
  });
  expect(reg.status).toBe(201);
  clientId = ((await reg.json()) as { client_id: string }).client_id;
}, 600_000);

afterAll(async () => {
  for (const u of unregister) u();
  await cw?.dispose();
  await hs?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface SignedIn {
  browser: Browser;
  accessToken: string;
  deviceId: string;
  /** The SAMLResponse as the IdP sent it to the ACS. */
  samlResponseXml: string;
  /** The AuthnRequest redirect Causeway sent to the IdP. */
  authnRequest: URL;
}

const isClientRedirect = (u: string) => u.startsWith(REDIRECT_URI);

/** A Matrix client's sign-in through Causeway and SimpleSAMLphp, up to the access token. */
async function signIn(provider: string, user: { username: string; password: string }, browser = new Browser()): Promise<SignedIn | { refused: BrowserResponse }> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const deviceId = randomBytes(5).toString('hex').toUpperCase();
  const authorize = new URL(`${cw.url}/authorize`);
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    scope: `urn:matrix:client:api:* urn:matrix:client:device:${deviceId}`,
    state: 'client-state',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    provider,
  }))
    authorize.searchParams.set(k, v);

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
  expect(back.searchParams.get('state')).toBe('client-state');
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`no code: ${back.href}\n${cw.logs.slice(-15).join('\n')}`);
  const token = await fetch(`${cw.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: code!, redirect_uri: REDIRECT_URI, client_id: clientId, code_verifier: verifier }),
  });
  expect(token.status).toBe(200);
  const { access_token } = (await token.json()) as { access_token: string };
  return { browser, accessToken: access_token, deviceId, samlResponseXml, authnRequest };
}

async function whoami(token: string) {
  const res = await fetch(`${hs.url}/_matrix/client/v3/account/whoami`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

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
    const me = await whoami(s.accessToken);
    expect(me).toEqual({ status: 200, body: { user_id: '@alice:example.test', is_guest: false, device_id: s.deviceId } });
    // The profile follows through the event bus.
    await until('the display name on the homeserver', () => (hs.user('alice')?.displayName === 'Alice Liddell' ? true : undefined));
  });

  it('alice again through the plain provider: unsigned request, clear signed assertion, linked to the same account', async () => {
    const s = signedIn(await signIn('ssp-plain', { username: 'alice', password: 'alicepass' }));
    expect(s.authnRequest.searchParams.get('Signature')).toBeNull();
    expect(s.samlResponseXml).toMatch(/<saml:Assertion[^>]*>/);
    expect(s.samlResponseXml).not.toContain('EncryptedAssertion');
    expect((await whoami(s.accessToken)).body.user_id).toBe('@alice:example.test');
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
    const confirm = await s.browser.go(`${cw.url}/end-session?client_id=${clientId}&post_logout_redirect_uri=${encodeURIComponent('http://localhost:3000/logged-out')}&state=bye`);
    const form = forms(confirm.body, confirm.url).find((f) => f.method === 'POST');
    if (!form) throw new Error(`no logout form: ${confirm.status} ${confirm.url} ${textOf(confirm.body)}`);
    const out = await s.browser.submit(form!, {}, (u) => u.startsWith('http://localhost:3000/'));
    expect(out.stoppedAt).toBe('http://localhost:3000/logged-out?state=bye');
    const trail = s.browser.history.join('\n');
    expect(trail).toMatch(new RegExp(`GET ${peer.url.replace(/[.]/g, '\\.')}/saml2/idp/SingleLogoutService\\.php\\?SAMLRequest=`));
    expect(trail).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/upstream\/ssp\/saml\/slo\?SAMLResponse=/);

    expect(await introspect(s.accessToken)).toBe(false);
    await until('the device removed from the homeserver', () => (hs.devices('alice').includes(s.deviceId) ? undefined : true));
    // The IdP session is over too: the next sign-in shows its login form again.
    const again = await s.browser.go(`${cw.url}/authorize?response_type=code&client_id=${clientId}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&scope=${encodeURIComponent('urn:matrix:client:api:*')}&state=s&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256&provider=ssp`);
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
  });
});
