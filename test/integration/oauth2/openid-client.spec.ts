import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { Browser, forms, textOf } from '../../support/browser.js';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { decide, devSignIn, onlyForm } from '../login/login-flow.js';

const REDIRECT = 'http://localhost:3000/cb';
const S = 'urn:matrix:client:';
const insecure = { execute: [oidc.allowInsecureRequests] };

/**
 * openid-client 6 (an OpenID-certified, standards-strict relying party) against Causeway, driving
 * the real sign-in pages with a scripted browser. SQLite only: the storage paths are covered on
 * both databases by tokens.spec.ts and matrix-sessions.spec.ts.
 */
describe('openid-client 6 as a strict client', () => {
  let hs: HomeserverStandin;
  let cw: CausewayProcess;

  beforeAll(async () => {
    hs = await startHomeserverStandin({ secret: SHARED_SECRET, cache: false });
    cw = await startCauseway({
      db: 'sqlite',
      config: {
        matrix: { endpoint: hs.url },
        clients: [{ client_id: 'admin-tool', client_secret: 'admin-tool-secret', client_auth_method: 'client_secret_basic', grant_types: ['client_credentials'], client_credentials_scopes: ['urn:synapse:admin:*'] }],
      },
    });
    hs.setEndpoint(cw.issuer);
  });
  afterAll(async () => {
    await cw?.dispose();
    await hs?.stop();
  });

  /** Dynamic registration through openid-client, then its discovery-based configuration. */
  async function registeredClient(): Promise<oidc.Configuration> {
    return oidc.dynamicClientRegistration(
      new URL(cw.issuer),
      {
        client_name: 'openid-client',
        client_uri: 'http://localhost:3000',
        redirect_uris: [REDIRECT],
        application_type: 'web',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
        response_types: ['code'],
      },
      oidc.None(),
      insecure,
    );
  }

  it('discovers the server metadata', async () => {
    const config = await oidc.discovery(new URL(cw.issuer), 'anything', undefined, oidc.None(), insecure);
    const m = config.serverMetadata();
    expect(m.issuer).toBe(cw.issuer);
    expect(m.supportsPKCE('S256')).toBe(true);
    expect(m.supportsPKCE('plain')).toBe(false);
  });

  it('signs in with code + PKCE + nonce through the pages, refreshes, reads userinfo and revokes', async () => {
    const config = await registeredClient();
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: `openid ${S}api:* ${S}device:OIDCCLIENT`,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const browser = new Browser();
    const toClient = (u: string) => u.startsWith(REDIRECT);
    let res = await browser.go(url.href, {}, toClient);
    res = await devSignIn(browser, res, `oc${Date.now() % 100000}`);
    if (!res.stoppedAt) res = await decide(browser, res, 'allow');
    expect(res.stoppedAt).toBeDefined();

    const tokens = await oidc.authorizationCodeGrant(config, new URL(res.stoppedAt!), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.refresh_token).toBeDefined();
    const claims = tokens.claims()!;
    expect(claims.iss).toBe(cw.issuer);

    // The homeserver accepts the token (user and device were provisioned before the code).
    const who = await fetch(`${hs.url}/_matrix/client/v3/account/whoami`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(who.status).toBe(200);
    expect(await who.json()).toMatchObject({ device_id: 'OIDCCLIENT' });

    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info.sub).toBe(claims.sub);
    expect(typeof info.preferred_username).toBe('string');

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);

    await oidc.tokenRevocation(config, refreshed.access_token);
    const after = await fetch(`${cw.url}/oauth2/introspect`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SHARED_SECRET}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${refreshed.access_token}`,
    });
    expect(await after.json()).toEqual({ active: false });
    await expect(oidc.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('completes the device authorization grant through the verification page', async () => {
    const config = await registeredClient();
    const da = await oidc.initiateDeviceAuthorization(config, { scope: `${S}api:* ${S}device:TVDEVICE01` });
    expect(da.verification_uri_complete).toBe(`${cw.issuer}link?code=${da.user_code}`);

    const polling = oidc.pollDeviceAuthorizationGrant(config, da);
    const browser = new Browser();
    let res = await browser.go(da.verification_uri_complete!);
    const codeForm = onlyForm(res, (f) => 'code' in f.fields);
    expect(codeForm.fields.code).toBe(da.user_code);
    res = await browser.submit(codeForm);
    if (textOf(res.body).includes('development sign-in')) res = await devSignIn(browser, res, `tv${Date.now() % 100000}`);
    if (forms(res.body, res.url).some((f) => f.action.endsWith('/consent'))) res = await decide(browser, res, 'allow');
    expect(res.status).toBeLessThan(400);

    const tokens = await polling;
    expect(tokens.refresh_token).toBeDefined();
    expect(tokens.scope).toBe(`${S}api:* ${S}device:TVDEVICE01`);
    const who = await fetch(`${hs.url}/_matrix/client/v3/account/whoami`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(await who.json()).toMatchObject({ device_id: 'TVDEVICE01' });
  }, 60_000);

  it('gets an admin token with client credentials and introspects it as Synapse would', async () => {
    const config = await oidc.discovery(new URL(cw.issuer), 'admin-tool', undefined, oidc.ClientSecretBasic('admin-tool-secret'), insecure);
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'urn:synapse:admin:*' });
    expect(tokens.scope).toBe('urn:synapse:admin:*');
    expect(tokens.refresh_token).toBeUndefined();
    await expect(oidc.clientCredentialsGrant(config, { scope: 'openid' })).rejects.toMatchObject({ error: 'invalid_scope' });
  });
});
