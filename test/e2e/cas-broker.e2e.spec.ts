import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createClient, generateScope, OAuth2, type ValidatedAuthMetadata } from 'matrix-js-sdk';
import { runCli, SHARED_SECRET, startCauseway, type CausewayProcess } from '../support/causeway.js';
import { createSynapseDatabase, SynapseWriter } from '../support/synapse-fixture.js';
import { Browser, forms, textOf, type BrowserResponse } from '../support/browser.js';
import { startHomeserverStandin, type HomeserverStandin } from '../support/homeserver-standin.js';
import { casSuccess, startFakeCas, type FakeCas } from '../support/cas-peer.js';
import { ensurePeer, type Peer } from '../support/peers.js';
import { freePort } from '../support/ports.js';

/**
 * Identity brokering through CAS, end to end: a Matrix client (matrix-js-sdk) signs in through
 * Causeway at the real django-cas-server (alice/alicepass), over CAS 3 and over CAS 2, gets a
 * token the homeserver stand-in accepts, with display name and email from CAS attributes; a
 * migrated Synapse CAS user keeps his account; the CAS server's Single Logout ends the session and
 * the sign-out reaches the homeserver. Hostile input (ticket for another service, replayed ticket,
 * DOCTYPE in the validation answer, validation timeout, refused logout requests, oversized bodies)
 * ends on a 4xx/5xx page that says what happened, never a 500.
 */

const APP = 'http://127.0.0.1:9/app';
const REDIRECT = `${APP}/callback`;

let peer: Peer;
let fake: FakeCas;
let hs: HomeserverStandin;
let cw: CausewayProcess;
let metadata: ValidatedAuthMetadata;
let clientId: string;

beforeAll(async () => {
  peer = await ensurePeer('cas');
  fake = await startFakeCas();
  const port = await freePort();
  hs = await startHomeserverStandin({ serverName: 'example.test', endpoint: `http://127.0.0.1:${port}/`, secret: SHARED_SECRET });
  const claims = { displayname: { template: '{{ user.displayName }}', sync: 'always' }, email: { template: '{{ user.mail }}' } };
  cw = await startCauseway({
    port,
    config: {
      matrix: { homeserver: 'example.test', endpoint: `${hs.url}/`, secret: SHARED_SECRET },
      upstream: {
        providers: [
          // The CAS server runs on loopback: only loopback may send Single Logout requests.
          { id: 'campus', kind: 'cas', name: 'Campus login', server_url: peer.url, protocol: 3, allow_insecure_http: true, slo_allowed_from: ['127.0.0.0/8', '::1/128'], claims, synapse_idp_id: 'cas' },
          // The same server over CAS 2, trusted to vouch for usernames (on_conflict: link); its
          // logout requests are refused (the CAS server is not in 10.0.0.0/8).
          { id: 'campus2', kind: 'cas', name: 'Campus login (CAS 2)', server_url: peer.url, protocol: 2, allow_insecure_http: true, slo_allowed_from: ['10.0.0.0/8'], claims, on_conflict: 'link' },
          // A stand-in validation endpoint for answers the real server never gives.
          { id: 'rogue', kind: 'cas', name: 'Rogue CAS', server_url: fake.url, allow_insecure_http: true, timeout_ms: 500 },
        ],
      },
    },
  });
  metadata = await createClient({ baseUrl: hs.url }).getAuthMetadata();
  clientId = await OAuth2.registerClient(metadata, { client_name: 'CAS e2e client', client_uri: `${APP}/`, redirect_uris: [REDIRECT], application_type: 'web' });
}, 600_000);

afterAll(async () => {
  await cw?.dispose();
  await hs?.stop();
  await fake?.close();
  if (cw) expect(cw.logs.filter((l) => l.includes('"status":500') || l.includes('unhandled error'))).toEqual([]);
});

const atClient = (u: string) => u.startsWith(REDIRECT);
const atCas = (u: string) => u.startsWith(peer.url) || u.startsWith(fake.url);

async function startLogin(provider: string) {
  const oauth = new OAuth2(metadata, { clientId });
  const state = randomBytes(8).toString('hex');
  const url = new URL(await oauth.generateAuthorizationCodeGrantUrl(state, REDIRECT, 'query', undefined, `openid ${generateScope(oauth.context.deviceId)}`));
  url.searchParams.set('provider', provider);
  return { oauth, state, url: url.href };
}

/** A person in a browser: through Causeway to the CAS login form, signs in, back, allows the client. */
async function browse(browser: Browser, url: string, user: string): Promise<BrowserResponse & { stoppedAt?: string }> {
  let res = await browser.go(url, {}, atClient);
  for (let step = 0; step < 6 && !res.stoppedAt; step++) {
    const form = forms(res.body, res.url)[0];
    if (res.status !== 200 || !form) return res;
    if (res.url.startsWith(peer.url) && 'lt' in form.fields) res = await browser.submit(form, { username: user, password: `${user}pass` }, atClient);
    else if (form.action.endsWith('/consent')) res = await browser.submit(form, { decision: 'allow' }, atClient);
    else return res;
  }
  return res;
}

async function signIn(provider: string, user: string, browser = new Browser()) {
  const login = await startLogin(provider);
  const res = await browse(browser, login.url, user);
  // A redirect has no body; a page here would be an error, shown in the failure message.
  expect(textOf(res.body)).toBe('');
  expect(res.stoppedAt).toBeDefined();
  const back = new URL(res.stoppedAt!);
  expect(back.searchParams.get('state')).toBe(login.state);
  const tokens = await login.oauth.completeAuthorizationCodeGrant(back.searchParams.get('code')!, REDIRECT);
  // The service URL the CAS server sent the browser back to, with its ticket.
  const serviceHit = browser.history.map((h) => h.replace(/^GET /, '')).find((u) => u.includes(`/upstream/${provider}/cas/service?`) && u.includes('ticket='));
  return { tokens, browser, deviceId: login.oauth.context.deviceId, serviceUrl: serviceHit! };
}

/** Starts a Causeway login at a provider and stops where the browser would leave for CAS: the service URL Causeway asked for. */
async function serviceUrlOfNewLogin(provider: string, browser = new Browser()) {
  const login = await startLogin(provider);
  const res = await browser.go(login.url, {}, atCas);
  expect(res.stoppedAt).toBeDefined();
  return { browser, service: new URL(res.stoppedAt!).searchParams.get('service')! };
}

async function introspect(token: string): Promise<{ active: boolean; username?: string }> {
  const res = await fetch(`${cw.url}/oauth2/introspect`, {
    method: 'POST',
    headers: { authorization: `Bearer ${SHARED_SECRET}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { active: boolean; username?: string };
}

async function userinfo(token: string) {
  return (await (await fetch(`${cw.url}/oauth2/userinfo`, { headers: { authorization: `Bearer ${token}` } })).json()) as Record<string, unknown>;
}

const logoutRequest = (ticket: string) =>
  `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="x" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"><saml:NameID xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">@NOT_USED@</saml:NameID><samlp:SessionIndex>${ticket}</samlp:SessionIndex></samlp:LogoutRequest>`;

function postSlo(path: string, body: string) {
  return fetch(`${cw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
}

function expectPage(res: BrowserResponse, status: number, message: string | RegExp) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  const text = textOf(res.body);
  if (typeof message === 'string') expect(text).toContain(message);
  else expect(text).toMatch(message);
}

describe('CAS brokering end to end (django-cas-server, matrix-js-sdk, homeserver stand-in)', () => {
  let alice: Awaited<ReturnType<typeof signIn>>;
  let logoutAt = 0;

  it('alice signs in over CAS 3; whoami on the homeserver; display name and email from CAS attributes', async () => {
    alice = await signIn('campus', 'alice');
    const who = await createClient({ baseUrl: hs.url, accessToken: alice.tokens.access_token }).whoami();
    expect(who).toMatchObject({ user_id: '@alice:example.test', device_id: alice.deviceId });
    // What the claims mapping stored for alice (templates over displayName and mail).
    expect(await userinfo(alice.tokens.access_token)).toMatchObject({ name: 'Alice Liddell', email: 'alice@example.org' });
  });

  it('alice signs in over CAS 2 (/serviceValidate, attributes not doubled)', async () => {
    const second = await signIn('campus2', 'alice');
    // Another provider id, the same CAS user: linked to alice's account (on_conflict: link).
    const who = await createClient({ baseUrl: hs.url, accessToken: second.tokens.access_token }).whoami();
    expect(who).toMatchObject({ user_id: '@alice:example.test', device_id: second.deviceId });
    expect(await userinfo(second.tokens.access_token)).toMatchObject({ name: 'Alice Liddell', email: 'alice@example.org' });
  });

  it('a migrated Synapse CAS user (auth_provider "cas", external id = CAS user) keeps his account', async () => {
    const synapse = await createSynapseDatabase('sqlite', cw.dir);
    await new SynapseWriter(synapse).user({ localpart: 'robert', displayname: 'Robert (Synapse)', externalIds: { cas: 'bob' } });
    await hs.loadSynapseDatabase(synapse);
    const r = await runCli(['import', 'synapse', '--config', join(cw.dir, `gateway-${cw.port}.yaml`), '--synapse-database', synapse.url], { cwd: cw.dir });
    await synapse.drop();
    expect(r.stderr).not.toContain('import failed');
    expect(r.code).toBe(0);
    const bob = await signIn('campus', 'bob');
    const who = await createClient({ baseUrl: hs.url, accessToken: bob.tokens.access_token }).whoami();
    expect(who.user_id).toBe('@robert:example.test');
    expect(hs.user('bob')).toBeUndefined();
  });

  it('a logoutRequest naming an unknown ticket answers 200 and ends nothing', async () => {
    const res = await postSlo('/upstream/campus/cas/service?state=whatever', new URLSearchParams({ logoutRequest: logoutRequest(`ST-${randomBytes(24).toString('hex')}`) }).toString());
    expect(res.status).toBe(200);
    expect(await introspect(alice.tokens.access_token)).toMatchObject({ active: true, username: 'alice' });
  });

  it('malformed and oversized logout requests are refused and end nothing', async () => {
    const ticket = new URL(alice.serviceUrl).searchParams.get('ticket')!;
    const doctype = `<!DOCTYPE r [<!ENTITY t "${ticket}">]>${logoutRequest('&t;')}`;
    expect((await postSlo('/upstream/campus/cas/slo', new URLSearchParams({ logoutRequest: doctype }).toString())).status).toBe(400);
    expect((await postSlo('/upstream/campus/cas/slo', 'logoutRequest=%3Cnot-closed')).status).toBe(400);
    const padded = logoutRequest(ticket).replace('</samlp:LogoutRequest>', `<x>${'a'.repeat(20_000)}</x></samlp:LogoutRequest>`);
    expect((await postSlo('/upstream/campus/cas/slo', new URLSearchParams({ logoutRequest: padded }).toString())).status).toBe(413);
    expect((await postSlo('/upstream/campus/cas/slo', `logoutRequest=${'a'.repeat(400 * 1024)}`)).status).toBe(413);
    expect(await introspect(alice.tokens.access_token)).toMatchObject({ active: true });
  });

  it('the CAS server’s Single Logout ends alice’s session at once', async () => {
    expect(hs.devices('alice')).toContain(alice.deviceId);
    // alice signs out at CAS; django-cas-server POSTs a logoutRequest to the service URL before answering.
    logoutAt = Date.now();
    const out = await alice.browser.go(`${peer.url}/logout`);
    expect(out.status).toBe(200);
    expect(await introspect(alice.tokens.access_token)).toEqual({ active: false });
    process.stdout.write(`CAS logout (incl. Single Logout to Causeway) → token inactive: ${Date.now() - logoutAt} ms\n`);
  });

  it('the Single Logout reaches the homeserver: alice’s device is removed', async () => {
    // The sign-out travels the outbox to the homeserver: sync_devices without alice's device.
    const call = await hs.waitForCall((c) => {
      const b = c.body as { localpart?: string; devices?: string[] };
      return c.path === '/_synapse/mas/sync_devices' && c.at >= logoutAt && c.status === 200 && b.localpart === 'alice' && !b.devices?.includes(alice.deviceId);
    }, 30_000);
    process.stdout.write(`CAS logout → sync_devices at the homeserver: ${call.at - logoutAt} ms\n`);
    expect(hs.devices('alice')).not.toContain(alice.deviceId);
    hs.setCacheEnabled(false);
    await expect(createClient({ baseUrl: hs.url, accessToken: alice.tokens.access_token }).whoami()).rejects.toMatchObject({ httpStatus: 401 });
    hs.setCacheEnabled(true);
  });

  it('a Single Logout from outside slo_allowed_from ends nothing', async () => {
    const carol = await signIn('campus2', 'alice');
    const out = await carol.browser.go(`${peer.url}/logout`);
    expect(out.status).toBe(200);
    // The CAS server's POST came from 127.0.0.1, outside 10.0.0.0/8: refused (403), the session lives on.
    expect(await introspect(carol.tokens.access_token)).toMatchObject({ active: true });
    expect(cw.logs.some((l) => l.includes('outside slo_allowed_from'))).toBe(true);
  });
});

describe('hostile sign-ins end on a page that says what happened', () => {
  it('a ticket issued for another service', async () => {
    const other = 'http://127.0.0.1:1/another-app/';
    const thief = new Browser();
    const page = await thief.go(`${peer.url}/login?service=${encodeURIComponent(other)}`);
    const form = forms(page.body, page.url).find((f) => 'lt' in f.fields)!;
    const issued = await thief.submit(form, { username: 'alice', password: 'alicepass' }, (u) => u.startsWith(other));
    const ticket = new URL(issued.stoppedAt!).searchParams.get('ticket')!;
    const { browser, service } = await serviceUrlOfNewLogin('campus');
    expectPage(await browser.go(`${service}&ticket=${ticket}`), 400, 'Campus login issued this sign-in ticket for a different service');
  });

  it('a replayed callback (the login state is single-use)', async () => {
    const s = await signIn('campus', 'alice');
    expectPage(await s.browser.go(s.serviceUrl), 400, /not valid/);
  });

  it('a used ticket carried into another login (refused by Causeway before the server is asked)', async () => {
    const s = await signIn('campus', 'alice');
    const ticket = new URL(s.serviceUrl).searchParams.get('ticket')!;
    const { browser, service } = await serviceUrlOfNewLogin('campus');
    expectPage(await browser.go(`${service}&ticket=${ticket}`), 400, 'This sign-in ticket from Campus login was already used');
  });

  it('a validation answer with a DOCTYPE and an entity', async () => {
    fake.answer = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY who "admin">]>${casSuccess('&who;')}`;
    const { browser, service } = await serviceUrlOfNewLogin('rogue');
    expectPage(await browser.go(`${service}&ticket=ST-doctype-1`), 502, 'Rogue CAS sent an answer that Causeway cannot accept');
    expect(hs.user('admin')).toBeUndefined();
  });

  it('a validation that does not answer within timeout_ms', async () => {
    fake.answer = 'stall';
    try {
      const { browser, service } = await serviceUrlOfNewLogin('rogue');
      expectPage(await browser.go(`${service}&ticket=ST-slow-1`), 504, 'Rogue CAS did not answer in time');
    } finally {
      fake.answer = '';
    }
  });

  it('a CAS failure code from the server (INVALID_TICKET for a made-up ticket)', async () => {
    const { browser, service } = await serviceUrlOfNewLogin('campus');
    expectPage(await browser.go(`${service}&ticket=ST-made-up-${randomBytes(8).toString('hex')}`), 400, 'Campus login did not accept the sign-in ticket');
  });
});
