import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../support/causeway.js';
import { startHomeserverStandin, type HomeserverStandin } from '../support/homeserver-standin.js';
import { oidcPeerWithClients, removeOidcPeerClients } from '../support/oidc-peer.js';
import { ensurePeer, type Peer } from '../support/peers.js';
import { freePort } from '../support/ports.js';
import { IDP_METADATA_PATH, makeSpKeys, registerSp } from '../support/saml-peer.js';
import { registerClient } from '../integration/oauth2/oauth-http.js';
import { authorizeUrl, CLIENT_URI, pkce, webClient } from '../integration/login/login-flow.js';
import { ssoRedirectUrl } from '../integration/compat/compat-flow.js';

/**
 * A sign-in is finished only by the browser that started it (issue: account takeover through a
 * forwarded IdP link). Two real Chromium contexts: the attacker starts a sign-in and stops where
 * Causeway sends it to the IdP; the victim, who has a session at that IdP, opens that genuine IdP
 * URL; the IdP answers silently to Causeway's callback in the victim's browser. Whatever the
 * protocol (OIDC query, OIDC form_post, SAML HTTP-POST, CAS) and whatever the sign-in was for
 * (/authorize, /account/, the device page /link, a legacy client's SSO), the victim's browser is
 * refused and the attacker's never gets a session, a code or a login token.
 *
 * Causeway's public URL is on `localhost` and the IdPs on `127.0.0.1`: different sites, so the
 * IdPs' form posts arrive without Causeway's SameSite=Lax cookies, as in production. The victim's
 * own sign-ins (the set-up) prove that such a cross-site POST still completes in the browser that
 * started it.
 */

interface Target {
  name: string;
  /** Starts the sign-in in the attacker's page; returns a check that nothing was gained. */
  start(page: Page): Promise<() => Promise<void>>;
}

const APP = 'http://127.0.0.1:9/app';
const dir = mkdtempSync(join(tmpdir(), 'causeway-binding-'));
let oidc: Peer;
let saml: Peer;
let cas: Peer;
let hs: HomeserverStandin;
let cw: CausewayProcess;
let pub: string;
let browser: Browser;
let clientId: string;
const unregister: Array<() => void> = [];

const PROVIDERS = [
  { id: 'oidc-q', name: 'OIDC (query)' },
  { id: 'oidc-fp', name: 'OIDC (form_post)' },
  { id: 'saml', name: 'SAML' },
  { id: 'cas', name: 'CAS' },
] as const;
type ProviderId = (typeof PROVIDERS)[number]['id'];
const idpOf = (id: ProviderId) => new URL(id === 'saml' ? saml.url : id === 'cas' ? cas.url : oidc.url).origin;

beforeAll(async () => {
  [oidc, saml, cas] = await Promise.all([ensurePeer('oidc'), ensurePeer('saml'), ensurePeer('cas')]);
  const port = await freePort();
  pub = `http://localhost:${port}`;
  hs = await startHomeserverStandin({ serverName: 'example.test', secret: SHARED_SECRET, endpoint: `http://127.0.0.1:${port}/` });
  await oidcPeerWithClients(
    { client_id: 'binding-q', client_secret: 'binding-q-secret', redirect_uris: [`${pub}/upstream/oidc-q/callback`] },
    { client_id: 'binding-fp', client_secret: 'binding-fp-secret', redirect_uris: [`${pub}/upstream/oidc-fp/callback`] },
  );
  const keys = makeSpKeys(dir);
  const oidcProvider = (id: string, client: string, extra: Record<string, unknown> = {}) => ({
    id,
    kind: 'oidc',
    name: PROVIDERS.find((p) => p.id === id)!.name,
    issuer: oidc.url,
    client_id: client,
    client_secret: `${client}-secret`,
    allow_insecure_http: true,
    scopes: ['openid', 'profile', 'email'],
    on_conflict: 'link',
    ...extra,
  });
  cw = await startCauseway({
    port,
    config: {
      http: { public_base: `${pub}/` },
      matrix: { homeserver: 'example.test', endpoint: `${hs.url}/`, secret: SHARED_SECRET },
      upstream: {
        providers: [
          oidcProvider('oidc-q', 'binding-q'),
          oidcProvider('oidc-fp', 'binding-fp', { response_mode: 'form_post' }),
          {
            id: 'saml',
            kind: 'saml',
            name: 'SAML',
            metadata_url: `${saml.url}${IDP_METADATA_PATH}`,
            allow_insecure_http: true,
            sp: { key_file: keys.keyFile, cert_file: keys.certFile },
            on_conflict: 'link',
          },
          { id: 'cas', kind: 'cas', name: 'CAS', server_url: cas.url, protocol: 3, allow_insecure_http: true, on_conflict: 'link' },
        ],
      },
    },
  });
  hs.setEndpoint(cw.issuer);
  unregister.push(registerSp(saml, await (await fetch(`${cw.url}/upstream/saml/saml/metadata`)).text()));
  clientId = await registerClient(cw.url, webClient('Binding test app'));
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}, 600_000);

afterAll(async () => {
  for (const u of unregister) u();
  await browser?.close();
  if (oidc) await removeOidcPeerClients(oidc, 'binding-q', 'binding-fp');
  await cw?.dispose();
  await hs?.stop();
  rmSync(dir, { recursive: true, force: true });
  if (cw) expect(cw.logs.filter((l) => l.includes('"status":500') || l.includes('unhandled error'))).toEqual([]);
});

const sessionCookie = async (ctx: BrowserContext) => (await ctx.cookies(pub)).find((c) => c.name === 'causeway_session')?.value;
/** The newest login this browser is bound to (the signed login cookie lists them, newest first). */
const newestLogin = async (ctx: BrowserContext) => {
  const raw = (await ctx.cookies(pub)).find((c) => c.name === 'causeway_login')?.value;
  const id = raw ? decodeURIComponent(raw).split('.')[0] : undefined;
  expect(id).toMatch(/^[0-9A-Z]{26}$/);
  return id!;
};

/** On Causeway's picker (if shown), chooses the provider. */
async function pick(page: Page, provider: ProviderId) {
  const button = page.getByRole('button', { name: `Continue with ${PROVIDERS.find((p) => p.id === provider)!.name}`, exact: true });
  if (await button.count()) await button.click({ noWaitAfter: true });
}

/** At the IdP's login page (OIDC peer, SimpleSAMLphp, django-cas-server alike): username, password, submit. */
async function idpLogin(page: Page) {
  await page.locator('input[name="username"]').fill('alice');
  await page.locator('input[name="password"]').fill('alicepass');
  await Promise.all([page.waitForURL((u) => u.href.startsWith(pub), { timeout: 30_000 }), page.locator('input[name="password"]').press('Enter')]);
}

/** The victim: a browser signed in at the IdP (and, through it, at Causeway), with JavaScript on. */
async function victimOf(provider: ProviderId): Promise<BrowserContext> {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${pub}/account/`);
  await pick(page, provider);
  await page.waitForURL((u) => u.origin === idpOf(provider), { timeout: 30_000 });
  await idpLogin(page);
  // The IdP's answer (a cross-site POST for SAML and form_post) completes in this browser: the account page.
  await page.waitForURL(`${pub}/account/`, { timeout: 30_000 });
  await expect(page.getByText('@alice:example.test').first().isVisible()).resolves.toBe(true);
  expect(await sessionCookie(ctx)).toBeDefined();
  await page.close();
  return ctx;
}

/** The attacker: starts a sign-in and stops where Causeway sends the browser to the IdP; returns that IdP URL. */
async function attackerStarts(target: Target, provider: ProviderId) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  // The apps' redirect URIs: answered here.
  for (const app of [CLIENT_URI, APP]) await page.route(`${app}/**`, (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'app' }));
  // The first request to the IdP (a redirect hop from Causeway): the genuine IdP URL the attacker forwards.
  const idpUrl = new Promise<string>((resolve) => page.on('request', (r) => new URL(r.url()).origin === idpOf(provider) && resolve(r.url())));
  const nothingGained = await target.start(page);
  await pick(page, provider);
  const url = await idpUrl;
  return { ctx, page, url, nothingGained, loginId: await newestLogin(ctx) };
}

const targets: Target[] = [
  {
    name: '/authorize',
    async start(page) {
      await page.goto(authorizeUrl(pub, { clientId, challenge: pkce().challenge, state: 'attacker' })).catch(() => undefined);
      return async () => expect(page.url().startsWith(CLIENT_URI)).toBe(false);
    },
  },
  {
    name: '/account/',
    async start(page) {
      await page.goto(`${pub}/account/`).catch(() => undefined);
      // Signed in, the account page answers 200; signed out, it starts a sign-in (303).
      return async () => expect((await page.context().request.get(`${pub}/account/`, { maxRedirects: 0 })).status()).toBe(303);
    },
  },
  {
    name: '/link (device authorization)',
    async start(page) {
      const deviceRes = await fetch(`${cw.url}/oauth2/device`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: clientId, scope: 'urn:matrix:client:api:* urn:matrix:client:device:BINDING001' }),
      });
      const device = (await deviceRes.json()) as { user_code: string; device_code: string };
      await page.goto(`${pub}/link?code=${device.user_code}`);
      await Promise.all([page.waitForURL(/\/login\/[0-9A-Z]{26}$/), page.getByRole('button', { name: 'Continue', exact: true }).click()]);
      return async () => {
        const poll = await fetch(`${cw.url}/oauth2/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: device.device_code, client_id: clientId }),
        });
        expect(((await poll.json()) as { error?: string }).error).toBe('authorization_pending');
      };
    },
  },
  {
    name: 'compat SSO',
    async start(page) {
      let token: string | null = null;
      await page.route(`${APP}/compat**`, (route) => {
        token = new URL(route.request().url()).searchParams.get('loginToken');
        return route.fulfill({ status: 200, contentType: 'text/plain', body: 'app' });
      });
      await page.goto(ssoRedirectUrl(pub, `${APP}/compat`)).catch(() => undefined);
      return async () => expect(token).toBeNull();
    },
  },
];

describe.each(PROVIDERS.map((p) => [p.id] as const))('a %s callback in another browser', (provider) => {
  let victim: BrowserContext;
  beforeAll(async () => {
    victim = await victimOf(provider);
  }, 120_000);
  afterAll(async () => victim?.close());

  it.each(targets.map((t) => [t.name, t] as const))(
    'never finishes the attacker’s %s sign-in',
    async (_name, target) => {
      const attacker = await attackerStarts(target, provider);
      const victimSession = await sessionCookie(victim);

      // The victim opens the genuine IdP URL; the IdP answers silently, in the victim's browser, to Causeway.
      const page = await victim.newPage();
      await page.goto(attacker.url);
      await page.getByText('started in another browser').waitFor({ timeout: 30_000 });
      expect(page.url().startsWith(pub)).toBe(true);
      // The victim keeps their own session: nothing replaced it.
      expect(await sessionCookie(victim)).toBe(victimSession);
      await page.close();

      // The attacker's sign-in has not moved: it still waits for the IdP, and no session was issued.
      const again = await attacker.page.goto(`${pub}/login/${attacker.loginId}`);
      expect(again?.status()).toBe(200);
      await expect(attacker.page.getByRole('heading', { name: /^Continue to / }).isVisible()).resolves.toBe(true);
      expect(await sessionCookie(attacker.ctx)).toBeUndefined();
      await attacker.nothingGained();
      expect(await sessionCookie(attacker.ctx)).toBeUndefined();
      await attacker.ctx.close();
    },
    45_000,
  );
});
