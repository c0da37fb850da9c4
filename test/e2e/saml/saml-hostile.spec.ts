import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { createClient, generateScope, OAuth2, type ValidatedAuthMetadata } from 'matrix-js-sdk';
import { Browser, forms, textOf, type BrowserResponse } from '../../support/browser.js';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { freePort } from '../../support/ports.js';
import { b64, fixtureKeys, responseXml } from '../../support/saml-forge.js';
import { HOSTILE_CASES, base, goodResponse, type LoginUnderAttack } from '../../support/saml-hostile.js';

/**
 * Hostile SAML responses on the wire: each is POSTed to Causeway's ACS for a real login (its
 * RelayState and AuthnRequest ID) and must end on an HTML page that names the problem — a 4xx,
 * never a 500. The IdP is forged by the test with its own keys (test/fixtures/saml); a correctly
 * signed response signs in (so every refusal below is the check under test, not a broken setup).
 */
const IDP = 'https://idp.example.test/idp';
const SSO = 'http://127.0.0.1:9/idp/sso';
const APP = 'http://127.0.0.1:9/app';
const REDIRECT_URI = `${APP}/callback`;
const BODY_LIMIT = 128 * 1024;
const idp = fixtureKeys('idp');
const sp = fixtureKeys('sp');

let hs: HomeserverStandin;
let cw: CausewayProcess;
let metadata: ValidatedAuthMetadata;
let clientId: string;

beforeAll(async () => {
  const port = await freePort();
  hs = await startHomeserverStandin({ serverName: 'example.test', secret: SHARED_SECRET, endpoint: `http://127.0.0.1:${port}/` });
  const forged = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    kind: 'saml',
    name: `Forged IdP (${id})`,
    idp: { entity_id: IDP, sso_url: SSO, slo_url: 'http://127.0.0.1:9/idp/slo', certs: [idp.certFile] },
    sp: { key_file: sp.keyFile, cert_file: sp.certFile },
    ...extra,
  });
  cw = await startCauseway({
    port,
    config: {
      http: { body_limit: BODY_LIMIT },
      matrix: { homeserver: 'example.test', endpoint: `${hs.url}/`, secret: SHARED_SECRET },
      upstream: { providers: [forged('forged'), forged('unsolicited', { allow_idp_initiated: true })] },
    },
  });
  metadata = await createClient({ baseUrl: hs.url }).getAuthMetadata();
  clientId = await OAuth2.registerClient(metadata, { client_name: 'Hostile SAML tests', client_uri: `${APP}/`, redirect_uris: [REDIRECT_URI], application_type: 'web' });
}, 120_000);

afterAll(async () => {
  await cw?.dispose();
  await hs?.stop();
  // The point of this file: whatever was thrown at it, Causeway never answered 500.
  if (cw) expect(cw.logs.filter((l) => l.includes('"status":500') || l.includes('unhandled error'))).toEqual([]);
});

const onlyForm = (res: BrowserResponse) => {
  const form = forms(res.body, res.url).find((f) => 'decision' in f.buttons);
  if (!form) throw new Error(`no decision form on ${res.url} (${res.status}): ${textOf(res.body).slice(0, 300)}`);
  return form;
};

const acs = (provider = 'forged') => `${cw.url}/upstream/${provider}/callback`;
const atClient = (u: string) => u.startsWith(REDIRECT_URI);

/** A Matrix client starts a login; Causeway sends the browser to the (forged) IdP with an AuthnRequest. */
async function startLogin(browser = new Browser()) {
  const oauth = new OAuth2(metadata, { clientId });
  const url = new URL(await oauth.generateAuthorizationCodeGrantUrl(randomBytes(8).toString('hex'), REDIRECT_URI, 'query', undefined, generateScope(oauth.context.deviceId)));
  url.searchParams.set('provider', 'forged');
  const res = await browser.go(url.href, {}, (u) => u.startsWith(SSO));
  expect(res.stoppedAt).toBeDefined();
  const toIdp = new URL(res.stoppedAt!);
  const request = inflateRawSync(Buffer.from(toIdp.searchParams.get('SAMLRequest')!, 'base64')).toString();
  return { browser, oauth, relayState: toIdp.searchParams.get('RelayState')!, requestId: /\bID="([^"]+)"/.exec(request)![1]! };
}

async function loginUnderAttack() {
  const login = await startLogin();
  const other = await startLogin();
  const l: LoginUnderAttack = { idpEntityId: IDP, spEntityId: `${cw.issuer}upstream/forged/saml/metadata`, acsUrl: acs(), requestId: login.requestId, otherRequestId: other.requestId };
  return { login, l };
}

/** Posts to the ACS as the IdP's auto-submitting form would, and follows Causeway's redirect to the same-site GET that continues it. */
async function post(browser: Browser, url: string, form: Record<string, string>) {
  return browser.go(url, { method: 'POST', form }, (u) => !u.startsWith(cw.url));
}

const signedInAs = async (browser: Browser) => {
  const res = await browser.go(`${cw.url}/account/`, {}, (u) => !u.startsWith(`${cw.url}/account`));
  return res.stoppedAt ? undefined : /@[a-z0-9._=\-/+]+:example\.test/.exec(textOf(res.body))?.[0];
};

describe('SAML ACS on the wire', () => {
  it('baseline: a correctly signed response for this login signs in (consent, code, token, whoami)', async () => {
    const { login, l } = await loginUnderAttack();
    let res = await login.browser.go(acs(), { method: 'POST', form: { SAMLResponse: b64(goodResponse(l)), RelayState: login.relayState } }, atClient);
    const consent = forms(res.body, res.url).find((f) => 'decision' in f.buttons);
    if (consent) res = await login.browser.submit(consent, { decision: 'allow' }, atClient);
    if (!res.stoppedAt) throw new Error(`${res.status} ${res.url} ${textOf(res.body)}\n${cw.logs.slice(-8).join('\n')}`);
    const code = new URL(res.stoppedAt!).searchParams.get('code')!;
    const { access_token } = await login.oauth.completeAuthorizationCodeGrant(code, REDIRECT_URI);
    // The default localpart template is {{ user.uid }}.
    expect((await createClient({ baseUrl: hs.url, accessToken: access_token }).whoami()).user_id).toBe('@alice:example.test');
  });

  it.each(HOSTILE_CASES.map((h) => [h.name, h] as const))('refuses %s with a clear page', async (_name, h) => {
    const { login, l } = await loginUnderAttack();
    const res = await post(login.browser, acs(), { SAMLResponse: h.build(l), RelayState: login.relayState });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(textOf(res.body)).toMatch(h.says);
  });

  it('shows a non-Success status from the IdP (AuthnFailed, NoPassive) as a page naming it', async () => {
    for (const [second, words] of [
      ['AuthnFailed', /could not verify who you are.*AuthnFailed/],
      ['NoPassive', /asked it not to show a login page.*NoPassive/],
    ] as const) {
      const { login, l } = await loginUnderAttack();
      const status = { status: 'urn:oasis:names:tc:SAML:2.0:status:Responder', secondStatus: `urn:oasis:names:tc:SAML:2.0:status:${second}` };
      const res = await post(login.browser, acs(), { SAMLResponse: b64(responseXml({ ...base(l), ...status })), RelayState: login.relayState });
      expect(res.status).toBe(400);
      expect(textOf(res.body)).toMatch(words);
    }
  });

  it('refuses the same response posted twice (the state is single-use)', async () => {
    const { login, l } = await loginUnderAttack();
    const form = { SAMLResponse: b64(goodResponse(l)), RelayState: login.relayState };
    const first = await post(login.browser, acs(), form);
    expect(first.status).toBeLessThan(400);
    const again = await post(new Browser(), acs(), form);
    expect(again.status).toBe(400);
    expect(textOf(again.body)).toMatch(/already used, has expired, or belongs to another sign-in/);
  });

  it('refuses a replayed unsolicited assertion (assertion-ID replay cache) where IdP-initiated sign-in is allowed', async () => {
    const l: LoginUnderAttack = { idpEntityId: IDP, spEntityId: `${cw.issuer}upstream/unsolicited/saml/metadata`, acsUrl: acs('unsolicited'), requestId: '_unused', otherRequestId: '_unused2' };
    const response = b64(goodResponse(l, { inResponseTo: null, nameId: 'opaque-carol', attributes: [{ name: 'uid', values: ['carol'] }] }));
    const browser = new Browser();
    const confirm = await post(browser, acs('unsolicited'), { SAMLResponse: response });
    expect(textOf(confirm.body)).toContain('Continue as @carol:example.test?');
    // An IdP-initiated sign-in lands on the account pages once confirmed.
    const first = await browser.submit(onlyForm(confirm), { decision: 'allow' }, (u) => u.startsWith(`${cw.url}/account`));
    if (!first.stoppedAt) throw new Error(`${first.status} ${textOf(first.body)}\n${cw.logs.slice(-6).join('\n')}`);
    expect(first.stoppedAt).toMatch(/\/account\/?$/);
    const replay = await post(new Browser(), acs('unsolicited'), { SAMLResponse: response });
    expect(replay.status).toBe(400);
    expect(textOf(replay.body)).toMatch(/already used/);
  });

  it('an assertion posted into a signed-in browser (login CSRF) asks "Continue as …?" and never silently replaces the session', async () => {
    const l: LoginUnderAttack = { idpEntityId: IDP, spEntityId: `${cw.issuer}upstream/unsolicited/saml/metadata`, acsUrl: acs('unsolicited'), requestId: '_unused', otherRequestId: '_unused2' };
    const assertion = (uid: string) => b64(goodResponse(l, { inResponseTo: null, nameId: `opaque-${uid}`, attributes: [{ name: 'uid', values: [uid] }] }));
    // The victim signs in as dave (their own IdP-initiated sign-in, confirmed).
    const victim = new Browser();
    const own = await post(victim, acs('unsolicited'), { SAMLResponse: assertion('dave') });
    await victim.submit(onlyForm(own), { decision: 'allow' }, (u) => u.startsWith(`${cw.url}/account`));
    expect(await signedInAs(victim)).toBe('@dave:example.test');

    // A hostile page makes the victim's browser post the attacker's fresh assertion.
    const planted = await post(victim, acs('unsolicited'), { SAMLResponse: assertion('mallory') });
    expect(planted.headers.getSetCookie().some((c) => c.startsWith('causeway_session='))).toBe(false);
    const text = textOf(planted.body);
    expect(text).toContain('Continue as @mallory:example.test?');
    expect(text).toContain('You are signed in here as @dave:example.test');
    // Still dave until the person chooses; Cancel keeps dave.
    expect(await signedInAs(victim)).toBe('@dave:example.test');
    const cancelled = await victim.submit(onlyForm(planted), { decision: 'deny' });
    expect(textOf(cancelled.body)).toContain('Nothing was changed');
    expect(await signedInAs(victim)).toBe('@dave:example.test');
  });

  it('refuses an unsolicited response where IdP-initiated sign-in is off, even with an unknown RelayState', async () => {
    const { l } = await loginUnderAttack();
    const res = await post(new Browser(), acs(), { SAMLResponse: b64(goodResponse(l, { inResponseTo: null })), RelayState: 'https://app.example/whatever' });
    expect(res.status).toBe(400);
    expect(textOf(res.body)).toMatch(/Sign-in link not valid/);
  });

  it('refuses an oversized POST with 413', async () => {
    const { login } = await startLogin().then((login) => ({ login }));
    const res = await post(login.browser, acs(), { SAMLResponse: 'A'.repeat(BODY_LIMIT + 1024), RelayState: login.relayState });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(textOf(res.body)).toMatch(/too large/i);
  });

  it('refuses a GET to the ACS carrying a SAMLResponse (HTTP-POST binding only)', async () => {
    const { login, l } = await loginUnderAttack();
    const res = await login.browser.request(`${acs()}?${new URLSearchParams({ SAMLResponse: b64(goodResponse(l)), RelayState: login.relayState })}`);
    expect(res.status).toBe(400);
    expect(textOf(res.body)).toMatch(/HTTP-POST/);
  });
});
