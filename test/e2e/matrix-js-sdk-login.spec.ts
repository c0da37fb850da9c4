import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MatrixError, type ValidatedAuthMetadata } from 'matrix-js-sdk';
import { createClient, OAuth2 } from '../support/matrix-sdk.js';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../support/causeway.js';
import { TEST_DBS } from '../support/databases.js';
import { Browser, forms, textOf } from '../support/browser.js';
import { startHomeserverStandin, type HomeserverStandin } from '../support/homeserver-standin.js';
import { decide, devSignIn, toOrigin } from '../integration/login/login-flow.js';

/**
 * issue 3's end-to-end test: matrix-js-sdk performs the whole OAuth login as Element Web does —
 * discovery from the homeserver, dynamic registration, the authorization URL, the dev sign-in and
 * consent (a cookie-keeping browser without JavaScript), code exchange, refresh and revocation —
 * and the homeserver stand-in (Synapse's delegated-auth contract) accepts the token, then refuses it.
 */
const ELEMENT_ORIGIN = 'http://localhost:8080';
const REDIRECT_URI = `${ELEMENT_ORIGIN}/?no_universal_links=true`;

const toElement = toOrigin(ELEMENT_ORIGIN);

/** Element's callback reads `code` and `state` from the fragment (response_mode=fragment). */
function fragmentParams(url: string): URLSearchParams {
  return new URLSearchParams(new URL(url).hash.replace(/^#/, ''));
}

describe.each(TEST_DBS)('matrix-js-sdk signs in through Causeway as Element does, on %s', (db) => {
  let hs: HomeserverStandin;
  let cw: CausewayProcess;

  beforeAll(async () => {
    // Synapse's 2-minute introspection cache is on, as in production: revocation signs the device out
    // because Causeway removes the device from the homeserver (through the event bus).
    hs = await startHomeserverStandin({ secret: SHARED_SECRET });
    cw = await startCauseway({ db, config: { matrix: { homeserver: hs.serverName, endpoint: `${hs.url}/`, secret: SHARED_SECRET } } });
    hs.setEndpoint(cw.issuer);
  });
  afterAll(async () => {
    await cw?.dispose();
    await hs?.stop();
  });

  async function discoverAndRegister(): Promise<{ metadata: ValidatedAuthMetadata; clientId: string }> {
    const anonymous = createClient({ baseUrl: hs.url });
    const metadata = await anonymous.getAuthMetadata();
    expect(metadata.issuer).toBe(cw.issuer);
    expect(metadata.account_management_uri).toBe(`${cw.url}/account/`);
    const clientId = await OAuth2.registerClient(metadata, {
      client_name: 'Element',
      client_uri: ELEMENT_ORIGIN,
      redirect_uris: [REDIRECT_URI],
      logo_uri: `${ELEMENT_ORIGIN}/vector-icons/1024.png`,
      application_type: 'web',
    });
    return { metadata, clientId };
  }

  it('discovery, registration, authorization with the dev sign-in and consent, code exchange, whoami, refresh, revocation', async () => {
    const { metadata, clientId } = await discoverAndRegister();
    const oauth = new OAuth2(metadata, { clientId });
    const state = `${'s'.repeat(32)}:element-web-ssoid:x`;
    const url = await oauth.generateAuthorizationCodeGrantUrl(state, REDIRECT_URI, 'fragment');

    const browser = new Browser();
    let res = await browser.go(url, {}, toElement);
    res = await devSignIn(browser, res, 'alice', 'Alice', toElement);
    expect(textOf(res.body)).toContain('Element');
    expect(textOf(res.body)).toContain(oauth.context.deviceId);
    res = await decide(browser, res, 'allow', toElement);
    expect(res.stoppedAt?.startsWith(`${REDIRECT_URI}#`)).toBe(true);
    const back = fragmentParams(res.stoppedAt!);
    expect(back.get('state')).toBe(state);

    const tokens = await oauth.completeAuthorizationCodeGrant(back.get('code')!, REDIRECT_URI);
    expect(tokens.token_type).toBe('Bearer');
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.scope?.split(' ')).toEqual(expect.arrayContaining(['urn:matrix:client:api:*', `urn:matrix:client:device:${oauth.context.deviceId}`]));

    const mx = createClient({ baseUrl: hs.url, accessToken: tokens.access_token });
    expect(await mx.whoami()).toEqual(expect.objectContaining({ user_id: '@alice:example.test', device_id: oauth.context.deviceId }));

    const refreshed = await oauth.performRefreshTokenGrant(tokens.refresh_token!);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    const mx2 = createClient({ baseUrl: hs.url, accessToken: refreshed.access_token });
    expect((await mx2.whoami()).user_id).toBe('@alice:example.test');

    // Element logs out by revoking both tokens (in parallel in older versions).
    await Promise.all([oauth.revokeToken(refreshed.access_token, 'access_token'), oauth.revokeToken(refreshed.refresh_token!, 'refresh_token')]);
    // The cached introspection answer still says "active"; the device removal (event bus) ends it.
    const deadline = Date.now() + 15_000;
    let err: unknown;
    while (Date.now() < deadline) {
      err = await mx2.whoami().then(
        () => undefined,
        (e: unknown) => e,
      );
      if (err) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(hs.devices('alice')).toEqual([]);
    expect(err).toBeInstanceOf(MatrixError);
    expect((err as MatrixError).httpStatus).toBe(401);
    expect((err as MatrixError).errcode).toBe('M_UNKNOWN_TOKEN');
    await expect(oauth.performRefreshTokenGrant(refreshed.refresh_token!)).rejects.toThrow();
  });

  it('the second sign-in of the same browser needs neither the sign-in nor the consent page', async () => {
    const { metadata, clientId } = await discoverAndRegister();
    const browser = new Browser();
    const first = new OAuth2(metadata, { clientId });
    let res = await browser.go(await first.generateAuthorizationCodeGrantUrl('first', REDIRECT_URI), {}, toElement);
    res = await devSignIn(browser, res, 'bob', '', toElement);
    res = await decide(browser, res, 'allow', toElement);
    await first.completeAuthorizationCodeGrant(fragmentParams(res.stoppedAt!).get('code')!, REDIRECT_URI);

    const second = new OAuth2(metadata, { clientId });
    const direct = await browser.go(await second.generateAuthorizationCodeGrantUrl('second', REDIRECT_URI), {}, toElement);
    expect(direct.stoppedAt).toBeDefined();
    const back = fragmentParams(direct.stoppedAt!);
    expect(back.get('state')).toBe('second');
    const tokens = await second.completeAuthorizationCodeGrant(back.get('code')!, REDIRECT_URI);
    const mx = createClient({ baseUrl: hs.url, accessToken: tokens.access_token });
    expect(await mx.whoami()).toEqual(expect.objectContaining({ user_id: '@bob:example.test', device_id: second.context.deviceId }));
    expect(hs.devices('bob')).toEqual([first.context.deviceId, second.context.deviceId].sort());
  });

  it('QR-style login: the device authorization grant approved on the verification page', async () => {
    const { metadata, clientId } = await discoverAndRegister();
    const newDevice = new OAuth2(metadata, { clientId });
    const session = await newDevice.startDeviceAuthorizationGrant();
    expect(session.verification_uri_complete).toContain(`${cw.url}/link?code=`);
    const waiting = newDevice.waitForDeviceAuthorizationGrant({ ...session, interval: 1 });

    // The existing device opens verification_uri_complete in a browser.
    const browser = new Browser();
    let res = await browser.go(session.verification_uri_complete!);
    res = await browser.submit(forms(res.body, res.url)[0]!);
    res = await devSignIn(browser, res, 'carol');
    expect(textOf(res.body)).toContain(session.user_code);
    res = await decide(browser, res, 'allow');
    expect(textOf(res.body)).toContain('Device connected');

    const granted = await waiting;
    expect('access_token' in granted).toBe(true);
    const mx = createClient({ baseUrl: hs.url, accessToken: (granted as { access_token: string }).access_token });
    expect(await mx.whoami()).toEqual(expect.objectContaining({ user_id: '@carol:example.test', device_id: newDevice.context.deviceId }));
  }, 60_000);
});
