import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { Browser, forms, type BrowserResponse } from '../../support/browser.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { startAppleStandin, type AppleStandin } from '../../support/apple-standin.js';
import { freePort } from '../../support/ports.js';
import { registerClient } from '../oauth2/oauth-http.js';
import { authorizeUrl, codeOf, decide, exchange, pkce, toClient, webClient } from '../login/login-flow.js';

/**
 * Sign in with Apple (`kind: oidc` with `apple:`), end to end through Causeway against the Apple
 * stand-in (test/support/apple-standin.ts, Apple's documented endpoints): the client secret is an
 * ES256 JWT Causeway signs with the test `.p8` key and the stand-in verifies with its public key;
 * the answer comes back as form_post (parked and resumed, docs/operator/sign-in-binding.md); the
 * name Apple posts in `user` at the first authorization becomes the display name the homeserver
 * stand-in receives, and the next sign-in, without `user`, keeps it.
 */

const TEAM = 'ABCDE12345';
const KID = 'KEY1234567';
const SERVICES_ID = 'com.example.causeway.web';
let apple: AppleStandin;
let hs: HomeserverStandin;
let cw: CausewayProcess;
let clientId: string;
let dir: string;

function p8(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

beforeAll(async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}/`;
  dir = mkdtempSync(join(tmpdir(), 'causeway-apple-'));
  const key = p8();
  const stranger = p8();
  writeFileSync(join(dir, `AuthKey_${KID}.p8`), key.privatePem);
  writeFileSync(join(dir, 'AuthKey_other.p8'), stranger.privatePem);
  apple = await startAppleStandin();
  apple.addClient({ clientId: SERVICES_ID, teamId: TEAM, redirectUri: `${base}upstream/apple/callback`, keyId: KID, publicKey: key.publicPem });
  // The same Services ID's key id, but the provider below signs with another key.
  apple.addClient({ clientId: `${SERVICES_ID}.other`, teamId: TEAM, redirectUri: `${base}upstream/apple-wrong-key/callback`, keyId: KID, publicKey: key.publicPem });
  apple.addUser({ appleId: 'john@icloud.example', firstName: 'John', lastName: 'Appleseed', email: 'john@icloud.example' });
  hs = await startHomeserverStandin({ serverName: 'example.test', endpoint: base, secret: SHARED_SECRET });
  const provider = (id: string, client: string, keyFile: string) => ({
    // As config/oidc-apple.example.yaml, pointed at the stand-in.
    id,
    kind: 'oidc',
    name: 'Apple',
    brand: 'apple',
    issuer: apple.url,
    client_id: client,
    apple: { team_id: TEAM, key_id: KID, private_key_file: join(dir, keyFile) },
    response_mode: 'form_post',
    scopes: ['openid', 'name', 'email'],
    claims: {
      localpart: { template: '{{ user.email | split: "@" | first }}' },
      displayname: { sync: 'always' },
      email: { template: '{% if user.email_verified == "true" %}{{ user.email }}{% endif %}' },
    },
    allow_insecure_http: true,
  });
  cw = await startCauseway({
    port,
    config: {
      matrix: { homeserver: 'example.test', endpoint: `${hs.url}/`, secret: SHARED_SECRET },
      upstream: { providers: [provider('apple', SERVICES_ID, `AuthKey_${KID}.p8`), provider('apple-wrong-key', `${SERVICES_ID}.other`, 'AuthKey_other.p8')] },
    },
  });
  hs.setEndpoint(cw.issuer);
  clientId = await registerClient(cw.url, webClient('Apple test app'));
}, 600_000);

afterAll(async () => {
  await cw?.dispose();
  await hs?.stop();
  await apple?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (cw) expect(cw.logs.filter((l) => l.includes('"status":500') || l.includes('unhandled error'))).toEqual([]);
});

/** Causeway → Apple's page (the Apple ID typed) → Apple's auto-submitting form_post page, posted → Causeway → the client. */
async function signIn(appleId: string, provider = 'apple'): Promise<{ res: BrowserResponse & { stoppedAt?: string }; verifier: string; browser: Browser }> {
  const browser = new Browser();
  const p = pkce();
  const res = await browser.go(authorizeUrl(cw.url, { clientId, challenge: p.challenge, extra: { provider } }), {}, toClient);
  expect(res.url.startsWith(`${apple.url}/auth/authorize`)).toBe(true);
  const page = await browser.submit(forms(res.body, res.url)[0]!, { apple_id: appleId }, toClient, 'continue');
  // Apple's answer: a page whose form JavaScript would submit at once (POST to the callback).
  const [post] = forms(page.body, page.url);
  expect(post!.method).toBe('POST');
  expect(post!.action).toContain(`/upstream/${provider}/callback`);
  let back = await browser.submit(post!, {}, toClient);
  if (!back.stoppedAt && back.status === 200 && forms(back.body, back.url).some((f) => f.action.endsWith('/consent'))) back = await decide(browser, back, 'allow');
  return { res: back, verifier: p.verifier, browser };
}

describe('Sign in with Apple', () => {
  it('first sign-in: the generated client secret is accepted, the name posted in `user` becomes the display name', async () => {
    const { res, verifier, browser } = await signIn('john@icloud.example');
    expect(res.stoppedAt).toBeDefined();
    const { code, error } = codeOf(res.stoppedAt!);
    expect(error).toBeNull();
    expect((await exchange(cw.url, clientId, code!, verifier)).status).toBe(200);

    // Apple posted the name (first authorization), to the callback, which parked it and resumed with a GET.
    expect(JSON.parse(apple.posted[0]!.user!)).toEqual({ name: { firstName: 'John', lastName: 'Appleseed' }, email: 'john@icloud.example' });
    expect(browser.history.some((h) => /^GET .*\/upstream\/apple\/callback\/resume\//.test(h))).toBe(true);
    // The client secret Apple received, with Apple's header and claims, verified with the .p8's public key.
    const secret = apple.clientSecrets[0]!;
    expect(secret).toMatchObject({ accepted: true, header: { alg: 'ES256', kid: KID }, claims: { iss: TEAM, sub: SERVICES_ID, aud: 'https://appleid.apple.com' } });
    const { iat, exp } = secret.claims as { iat: number; exp: number };
    expect(exp - iat).toBeLessThanOrEqual(15_777_000);
    expect(exp).toBeGreaterThan(Date.now() / 1000);

    const user = hs.user('john');
    expect(user?.displayName).toBe('John Appleseed');
    expect([...user!.emails]).toEqual(['john@icloud.example']);
    const provision = hs.calls.find((c) => c.path === '/_synapse/mas/provision_user' && (c.body as { localpart?: string }).localpart === 'john');
    expect(provision?.body).toMatchObject({ set_displayname: 'John Appleseed' });
  });

  it('second sign-in: Apple posts no `user`, the display name stays; the cached client secret is reused', async () => {
    const calls = hs.calls.length;
    const { res, verifier } = await signIn('john@icloud.example');
    const { code, error } = codeOf(res.stoppedAt!);
    expect(error).toBeNull();
    expect((await exchange(cw.url, clientId, code!, verifier)).status).toBe(200);
    expect(apple.posted[1]!.user).toBeUndefined();
    expect(hs.user('john')?.displayName).toBe('John Appleseed');
    const later = hs.calls.slice(calls).filter((c) => c.path === '/_synapse/mas/provision_user' || c.path.includes('displayname'));
    for (const c of later) expect(c.body).not.toHaveProperty('unset_displayname');
    for (const c of later) expect((c.body as { set_displayname?: string }).set_displayname ?? 'John Appleseed').toBe('John Appleseed');
    // One secret per half-lifetime: the second token request presented the same JWT.
    expect(apple.clientSecrets).toHaveLength(2);
    expect(apple.clientSecrets[1]!.claims).toEqual(apple.clientSecrets[0]!.claims);
  });

  it('a client secret signed with another key is refused by Apple: the sign-in ends on a page, not a 500', async () => {
    const { res } = await signIn('john@icloud.example', 'apple-wrong-key');
    expect(res.status).toBe(503);
    expect(apple.clientSecrets.at(-1)).toMatchObject({ accepted: false, reason: expect.stringMatching(/signature/) });
  });
});
