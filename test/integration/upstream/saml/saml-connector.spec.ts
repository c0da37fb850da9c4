import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { inflateRawSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { RedisKeyValueStore } from '../../../../src/storage/kv-store.js';
import { samlProviderSchema, type SamlProviderConfig } from '../../../../src/upstream/saml/saml.config.js';
import { IdpMetadataSource } from '../../../../src/upstream/saml/idp-metadata.source.js';
import { SamlConnector } from '../../../../src/upstream/saml/saml.connector.js';
import { UpstreamError, type UpstreamLoginContext } from '../../../../src/upstream/connector.js';
import { HOSTILE_CASES, base, goodResponse, type LoginUnderAttack } from '../../../support/saml-hostile.js';
import { ProviderMapping } from '../../../../src/upstream/mapping/claims-mapper.js';
import { CONNECTOR_KINDS } from '../../../../src/upstream/connector-kinds.js';
import { b64, fixtureKeys, logoutRequestXml, logoutResponseXml, redirectQuery, responseXml, signAssertion, signResponse } from '../../../support/saml-forge.js';
import { english } from '../../../support/i18n.js';

/**
 * The SAML connector in-process, against the real Redis replay cache: the full response
 * validation (every hostile case of the wire suite, plus the policies that need another config)
 * and the Single Logout message checks, without a server around it.
 */
const IDP = 'https://idp.example.test/saml2/idp/metadata.php';
const BASE = 'https://auth.example.test/';
const idpKeys = fixtureKeys('idp');
const sp = fixtureKeys('sp');
const attacker = fixtureKeys('attacker');
const logger = pino({ level: 'silent' });

let redis: Redis;
let kv: RedisKeyValueStore;

function config(extra: Record<string, unknown> = {}): SamlProviderConfig {
  return samlProviderSchema.parse({
    id: 'forged',
    kind: 'saml',
    name: 'Forged IdP',
    idp: { entity_id: IDP, sso_url: 'https://idp.example.test/sso', slo_url: 'https://idp.example.test/slo', certs: [idpKeys.certFile] },
    sp: { key_file: sp.keyFile, cert_file: sp.certFile },
    ...extra,
  });
}

function connector(extra: Record<string, unknown> = {}) {
  const cfg = config(extra);
  const metadata = new IdpMetadataSource(cfg, { kv, logger });
  return new SamlConnector(cfg, { publicBase: BASE, kv, metadata, logger });
}

const ctx = (over: Partial<UpstreamLoginContext> = {}): UpstreamLoginContext => ({
  loginId: 'L1',
  state: randomBytes(16).toString('base64url'),
  callbackUrl: `${BASE}upstream/forged/callback`,
  prompt: [],
  ...over,
});

async function beginLogin(c: SamlConnector, over: Partial<UpstreamLoginContext> = {}) {
  const x = ctx(over);
  const r = await c.begin(x);
  const url = new URL(r.redirectUrl!);
  const request = inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest')!, 'base64')).toString();
  return { ctx: x, saved: r.saved, url, request };
}

async function attackLogin(c: SamlConnector): Promise<{ l: LoginUnderAttack; saved: Record<string, unknown> }> {
  const { saved } = await beginLogin(c);
  const other = await beginLogin(c);
  return {
    saved,
    l: { idpEntityId: IDP, spEntityId: c.spEntityId, acsUrl: c.acsUrl, requestId: saved.requestId as string, otherRequestId: other.saved.requestId as string },
  };
}

const post = (SAMLResponse: string, RelayState = 'x') => ({ method: 'POST' as const, url: '', query: {}, body: { SAMLResponse, RelayState }, ip: '127.0.0.1' });

beforeAll(() => {
  redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: false, maxRetriesPerRequest: 1 });
  kv = new RedisKeyValueStore(redis, `causeway-test:saml-connector:${randomBytes(6).toString('hex')}:`);
});
afterAll(async () => {
  await redis.quit();
});

describe('SAML connector: AuthnRequest', () => {
  it('signs a Redirect AuthnRequest with NameIDPolicy and RelayState = the login state, and no ForceAuthn by default', async () => {
    const c = connector({ authn_context: ['urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport'] });
    const { ctx: x, saved, url, request } = await beginLogin(c);
    expect(url.origin + url.pathname).toBe('https://idp.example.test/sso');
    expect(url.searchParams.get('RelayState')).toBe(x.state);
    expect(url.searchParams.get('SigAlg')).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    expect(url.searchParams.get('Signature')).toBeTruthy();
    expect(request).toContain(`ID="${saved.requestId}"`);
    expect(request).toContain('AssertionConsumerServiceURL="https://auth.example.test/upstream/forged/callback"');
    expect(request).toContain('Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"');
    expect(request).toContain('PasswordProtectedTransport');
    expect(request).not.toContain('ForceAuthn');
    expect(request).toContain(`<saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">${c.spEntityId}</saml:Issuer>`);
  });

  it('asks for ForceAuthn on prompt=login and IsPassive on prompt=none; leaves the signature out when sign_requests is false', async () => {
    const c = connector({ sp: { key_file: sp.keyFile, cert_file: sp.certFile, sign_requests: false } });
    expect((await beginLogin(c, { prompt: ['login'] })).request).toContain('ForceAuthn="true"');
    const passive = await beginLogin(c, { prompt: ['none'] });
    expect(passive.request).toContain('IsPassive="true"');
    expect(passive.url.searchParams.get('Signature')).toBeNull();
    expect(passive.request).not.toContain('RequestedAuthnContext');
  });

  it('passes login_hint in the configured parameter', async () => {
    const c = connector({ login_hint_parameter: 'login_hint' });
    expect((await beginLogin(c, { loginHint: 'alice@example.org' })).url.searchParams.get('login_hint')).toBe('alice@example.org');
  });

  it('reads the RelayState of a POST callback as the state', () => {
    const c = connector();
    expect(c.extractState(post('x', 'abc_DEF-123'))).toBe('abc_DEF-123');
    expect(c.extractState(post('x', 'has space'))).toBeUndefined();
    expect(c.extractState({ ...post('x'), body: { SAMLResponse: 'x' } })).toBeUndefined();
  });
});

describe('SAML connector: ACS', () => {
  it('accepts a signed assertion and maps NameID, session index and attributes (URI, friendly and well-known names, multi-valued)', async () => {
    const c = connector();
    const { l, saved } = await attackLogin(c);
    const a = await c.complete(post(b64(goodResponse(l, { sessionIndex: '_sess42' }))), saved);
    expect(a.providerId).toBe('forged');
    expect(a.subject).toBe('opaque-alice-1234');
    expect(a.upstreamSid).toBe('_sess42');
    expect(a.sessionDetails).toEqual({ nameId: 'opaque-alice-1234', nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent', sessionIndex: '_sess42' });
    expect(a.attributes).toMatchObject({
      'urn:oid:0.9.2342.19200300.100.1.3': 'alice@example.org',
      mail: 'alice@example.org',
      uid: 'alice',
      eduPersonAffiliation: ['member', 'staff'],
      'urn:oid:1.3.6.1.4.1.5923.1.1.1.1': ['member', 'staff'],
      nameid: 'opaque-alice-1234',
      nameid_format: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    });
  });

  it('with claims.subject, the mapping keys the account by that attribute (Synapse kept SAML users by uid); the default templates read uid/displayName/mail', async () => {
    const c = connector({ claims: { subject: '{{ user.uid }}' }, synapse_idp_id: 'saml' });
    const { l, saved } = await attackLogin(c);
    const a = await c.complete(post(b64(goodResponse(l, { attributes: [...base(l).attributes!, { name: 'urn:oid:2.16.840.1.113730.3.1.241', values: ['Alice Liddell'] }] }))), saved);
    expect(a.subject).toBe('opaque-alice-1234');
    const mapped = new ProviderMapping(c.provider, CONNECTOR_KINDS.saml.defaultTemplates).map(a, { serverName: 'example.test' });
    expect(mapped).toMatchObject({ ok: true, identity: { subject: 'alice', localpart: { value: 'alice' }, displayname: { value: 'Alice Liddell' }, email: { value: 'alice@example.org' } } });
  });

  it('names Microsoft claim URIs by their last segment', async () => {
    const c = connector();
    const { l, saved } = await attackLogin(c);
    const xml = signAssertion(
      responseXml({
        idpEntityId: IDP,
        spEntityId: c.spEntityId,
        acsUrl: c.acsUrl,
        inResponseTo: l.requestId,
        attributes: [
          { name: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress', values: ['alice@corp.example'] },
          { name: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups', values: ['g1', 'g2'] },
        ],
      }),
      idpKeys,
    );
    const a = await c.complete(post(b64(xml)), saved);
    expect(a.attributes.emailaddress).toBe('alice@corp.example');
    expect(a.attributes.groups).toEqual(['g1', 'g2']);
  });

  it.each(HOSTILE_CASES.map((h) => [h.name, h] as const))('refuses: %s', async (_name, h) => {
    const c = connector();
    const { l, saved } = await attackLogin(c);
    const err = await c.complete(post(h.build(l)), saved).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UpstreamError);
    if (process.env.SAML_PRINT_CAUSES)
      process.stdout.write(`${h.name} => ${(err as UpstreamError).kind}: ${String((err as UpstreamError).cause instanceof Error ? ((err as UpstreamError).cause as Error).message : (err as UpstreamError).cause)}\n`);
    expect((err as UpstreamError).kind).toBe(h.kind);
    expect(english((err as UpstreamError).userMessage)).toMatch(h.says);
  });

  it('refuses a replayed assertion', async () => {
    const c = connector();
    const { l, saved } = await attackLogin(c);
    const response = b64(goodResponse(l));
    await c.complete(post(response), saved);
    await expect(c.complete(post(response), saved)).rejects.toMatchObject({ kind: 'replayed' });
  });

  it('refuses a message larger than max_message_size', async () => {
    const c = connector({ max_message_size: 8192 });
    const { l, saved } = await attackLogin(c);
    const big = goodResponse(l, { attributes: [{ name: 'junk', values: ['x'.repeat(20_000)] }] });
    await expect(c.complete(post(b64(big)), saved)).rejects.toMatchObject({ kind: 'malformed', message: expect.stringMatching(/too large/) });
  });

  it('shows non-Success statuses by name (AuthnFailed, NoPassive, RequestDenied)', async () => {
    const c = connector();
    for (const [second, words] of [
      ['AuthnFailed', /could not verify who you are.*AuthnFailed/],
      ['NoPassive', /not signed in at the identity provider.*NoPassive/],
      ['RequestDenied', /refused this sign-in request.*RequestDenied/],
    ] as const) {
      const { l, saved } = await attackLogin(c);
      const xml = responseXml({
        idpEntityId: IDP,
        spEntityId: c.spEntityId,
        acsUrl: c.acsUrl,
        inResponseTo: l.requestId,
        status: 'urn:oasis:names:tc:SAML:2.0:status:Responder',
        secondStatus: `urn:oasis:names:tc:SAML:2.0:status:${second}`,
      });
      await expect(c.complete(post(b64(xml)), saved)).rejects.toMatchObject({ kind: 'upstream_denied', message: expect.stringMatching(words) });
    }
  });

  it('signature policy: `assertion` refuses a response signed only at the top, `either` and `response` accept it, `both` wants both', async () => {
    const responseOnly = (l: LoginUnderAttack) => b64(signResponse(responseXml(lFields(l)), idpKeys));
    const both = (l: LoginUnderAttack) => b64(signResponse(goodResponse(l), idpKeys));
    const run = async (policy: string, build: (l: LoginUnderAttack) => string) => {
      const c = connector({ signature: policy });
      const { l, saved } = await attackLogin(c);
      return c.complete(post(build(l)), saved).then(
        () => 'accepted',
        (e: UpstreamError) => e.kind,
      );
    };
    expect(await run('assertion', responseOnly)).toBe('signature_invalid');
    expect(await run('either', responseOnly)).toBe('accepted');
    expect(await run('response', responseOnly)).toBe('accepted');
    expect(await run('both', responseOnly)).toBe('signature_invalid');
    expect(await run('both', both)).toBe('accepted');
    expect(await run('response', (l) => b64(goodResponse(l)))).toBe('signature_invalid');
    expect(await run('either', (l) => b64(responseXml(lFields(l))))).toBe('signature_invalid');
  });

  it('encrypted assertions: decrypted with the SP key (RSA-OAEP key transport naming its SHA-1 digest is fine); `off` and `required` refuse the other kind', async () => {
    const { encryptAssertion } = await import('../../../support/saml-forge.js');
    const encryptedFor = async (l: LoginUnderAttack) => b64(signResponse(await encryptAssertion(signAssertion(responseXml(lFields(l)), idpKeys), sp.cert), idpKeys));
    const run = async (extra: Record<string, unknown>, build: (l: LoginUnderAttack) => Promise<string> | string) => {
      const c = connector(extra);
      const { l, saved } = await attackLogin(c);
      return c.complete(post(await build(l)), saved).then(
        (a) => a.subject,
        (e: UpstreamError) => english(e.userMessage),
      );
    };
    const xml = await encryptAssertion(responseXml(lFields({ idpEntityId: IDP, spEntityId: 'x', acsUrl: 'x', requestId: '_r', otherRequestId: '_o' })), sp.cert);
    expect(xml).toContain('http://www.w3.org/2000/09/xmldsig#sha1');
    expect(await run({}, encryptedFor)).toBe('opaque-alice-1234');
    expect(await run({ signature: 'response' }, encryptedFor)).toBe('opaque-alice-1234');
    expect(await run({ sp: { key_file: sp.keyFile, cert_file: sp.certFile, encrypted_assertions: 'required' } }, encryptedFor)).toBe('opaque-alice-1234');
    expect(await run({ sp: { key_file: sp.keyFile, cert_file: sp.certFile, encrypted_assertions: 'off' } }, encryptedFor)).toMatch(/configured not to accept them/);
    expect(await run({ sp: { key_file: sp.keyFile, cert_file: sp.certFile, encrypted_assertions: 'required' } }, (l) => b64(goodResponse(l)))).toMatch(/requires encrypted ones/);
    // Encrypted for another SP's key: cannot be read (the same words as any unreadable response: no decryption oracle).
    const other = fixtureKeys('sp-other');
    expect(await run({}, async (l) => b64(signResponse(await encryptAssertion(signAssertion(responseXml(lFields(l)), idpKeys), other.cert), idpKeys)))).toBe('The response from the identity provider could not be read.');
  });

  it('accepts signatures by any of several IdP certificates (rollover)', async () => {
    const next = fixtureKeys('idp-next');
    const c = connector({ idp: { entity_id: IDP, sso_url: 'https://idp.example.test/sso', certs: [idpKeys.certFile, next.cert] } });
    const { l, saved } = await attackLogin(c);
    await expect(c.complete(post(b64(signAssertion(responseXml(lFields(l)), next))), saved)).resolves.toMatchObject({ subject: 'opaque-alice-1234' });
  });

  it('accepts RSA-SHA1 only with allow_sha1', async () => {
    const c = connector({ allow_sha1: true });
    const { l, saved } = await attackLogin(c);
    await expect(c.complete(post(b64(signAssertion(responseXml(lFields(l)), idpKeys, { sha1: true }))), saved)).resolves.toBeDefined();
  });

  it('IdP-initiated responses: accepted only with allow_idp_initiated, and then never with an InResponseTo', async () => {
    const off = connector();
    await expect(off.complete(post('x'), {})).rejects.toMatchObject({ kind: 'unsolicited' });
    const on = connector({ allow_idp_initiated: true });
    const l = { idpEntityId: IDP, spEntityId: on.spEntityId, acsUrl: on.acsUrl, requestId: 'unused', otherRequestId: '_x' };
    await expect(on.complete(post(b64(goodResponse(l, { inResponseTo: null }))), {})).resolves.toMatchObject({ subject: 'opaque-alice-1234' });
    await expect(on.complete(post(b64(goodResponse(l, { inResponseTo: '_someRequest' }))), {})).rejects.toMatchObject({ kind: 'state_mismatch' });
  });

  it('clock_skew: an assertion that expired 30 s ago passes with 60 s of skew, not with 0', async () => {
    const build = (l: LoginUnderAttack) => b64(goodResponse(l, { issuedAt: Date.now() - 90_000, lifetimeMs: 60_000 }));
    const lenient = connector({ clock_skew: 60 });
    const a = await attackLogin(lenient);
    await expect(lenient.complete(post(build(a.l)), a.saved)).resolves.toBeDefined();
    const strict = connector({ clock_skew: 0 });
    const b = await attackLogin(strict);
    await expect(strict.complete(post(build(b.l)), b.saved)).rejects.toMatchObject({ kind: 'expired' });
  });
});

describe('SAML IdP metadata from a file', () => {
  it('is re-read on refresh: a new certificate is picked up; a broken file keeps the last good copy (degraded)', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { idpMetadataXml } = await import('../../../support/saml-forge.js');
    const dir = mkdtempSync(join(tmpdir(), 'causeway-saml-mdfile-'));
    const file = join(dir, 'idp.xml');
    const next = fixtureKeys('idp-next');
    const write = (cert: string) => writeFileSync(file, idpMetadataXml({ entityId: IDP, ssoUrl: 'https://idp.example.test/sso', certs: [cert] }));
    try {
      write(idpKeys.cert);
      const cfg = samlProviderSchema.parse({ id: 'file', kind: 'saml', name: 'File', metadata_file: file, sp: { key_file: sp.keyFile, cert_file: sp.certFile } });
      const source = new IdpMetadataSource(cfg, { kv, logger });
      await source.start();
      source.stop();
      const first = source.descriptor()!.fingerprints;
      write(next.cert);
      expect(await source.refresh()).toBe(true);
      expect(source.descriptor()!.fingerprints).not.toEqual(first);
      writeFileSync(file, '<md:EntityDescriptor');
      expect(await source.refresh()).toBe(false);
      expect(source.descriptor()!.signingCerts[0]).toBe(next.cert.replace(/\r/g, ''));
      expect(source.health()).toMatchObject({ status: 'degraded', detail: expect.stringMatching(/not well-formed/) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a broken metadata_file at start-up is a start-up error (the operator’s own file)', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'causeway-saml-mdfile-'));
    const file = join(dir, 'idp.xml');
    writeFileSync(file, '<html>not metadata</html>');
    try {
      const cfg = samlProviderSchema.parse({ id: 'file', kind: 'saml', name: 'File', metadata_file: file, sp: { key_file: sp.keyFile, cert_file: sp.certFile } });
      await expect(new IdpMetadataSource(cfg, { kv, logger }).start()).rejects.toThrow(/provider file: not SAML metadata/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SAML connector: Single Logout messages', () => {
  const sloUrl = `${BASE}upstream/forged/saml/slo`;
  const redirect = (c: SamlConnector, rawQuery: string) => c.handleSlo({ method: 'GET', query: Object.fromEntries(new URLSearchParams(rawQuery)), rawQuery, body: {} });

  it('SP-initiated: a signed LogoutRequest with NameID and SessionIndex, whose signed LogoutResponse leads to returnTo once', async () => {
    const c = connector();
    const url = await c.logoutUrl!(
      {
        providerId: 'forged',
        subject: 'opaque-alice-1234',
        upstreamSid: '_sess42',
        details: { nameId: 'opaque-alice-1234', nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent', sessionIndex: '_sess42' },
      },
      { returnTo: 'https://auth.example.test/done', state: 'st4te' },
    );
    const u = new URL(url!);
    expect(u.origin + u.pathname).toBe('https://idp.example.test/slo');
    expect(u.searchParams.get('Signature')).toBeTruthy();
    expect(u.searchParams.get('RelayState')).toBe('st4te');
    const xml = inflateRawSync(Buffer.from(u.searchParams.get('SAMLRequest')!, 'base64')).toString();
    expect(xml).toContain('>opaque-alice-1234</saml:NameID>');
    expect(xml).toContain('_sess42</saml2p:SessionIndex>');
    const requestId = /ID="([^"]+)"/.exec(xml)![1]!;

    const answer = logoutResponseXml({ idpEntityId: IDP, destination: sloUrl, inResponseTo: requestId });
    const unsigned = redirectQuery('SAMLResponse', answer, { relayState: 'st4te' });
    await expect(redirect(c, unsigned)).rejects.toThrow(/not signed/);
    const forged = redirectQuery('SAMLResponse', answer, { relayState: 'st4te', signer: attacker });
    await expect(redirect(c, forged)).rejects.toThrow(/signature on this sign-out message is not valid/);
    const good = redirectQuery('SAMLResponse', answer, { relayState: 'st4te', signer: idpKeys });
    await expect(redirect(c, good)).resolves.toMatchObject({ kind: 'response', returnTo: 'https://auth.example.test/done', success: true });
    await expect(redirect(c, good)).rejects.toThrow(/does not answer a sign-out in progress/);
  });

  it('IdP-initiated: a signed LogoutRequest (Redirect) is read once and answered with a signed LogoutResponse', async () => {
    const c = connector();
    const req = logoutRequestXml({ idpEntityId: IDP, destination: sloUrl, nameId: 'opaque-alice-1234', sessionIndex: '_sess42' });
    await expect(redirect(c, redirectQuery('SAMLRequest', req, { relayState: 'r' }))).rejects.toThrow(/not signed/);
    await expect(redirect(c, redirectQuery('SAMLRequest', req, { relayState: 'r', signer: attacker }))).rejects.toThrow(/not valid/);
    const outcome = await redirect(c, redirectQuery('SAMLRequest', req, { relayState: 'r', signer: idpKeys }));
    expect(outcome).toMatchObject({ kind: 'request', request: { nameId: 'opaque-alice-1234', sessionIndexes: ['_sess42'], relayState: 'r' } });
    if (outcome.kind !== 'request') throw new Error('unreachable');
    const back = new URL((await outcome.finish(true))!);
    expect(back.origin + back.pathname).toBe('https://idp.example.test/slo');
    expect(back.searchParams.get('Signature')).toBeTruthy();
    const xml = inflateRawSync(Buffer.from(back.searchParams.get('SAMLResponse')!, 'base64')).toString();
    expect(xml).toContain('urn:oasis:names:tc:SAML:2.0:status:Success');
    await expect(redirect(c, redirectQuery('SAMLRequest', req, { relayState: 'r', signer: idpKeys }))).rejects.toThrow(/already processed/);
  });

  it('IdP-initiated over HTTP-POST: the enveloped signature is required', async () => {
    const c = connector();
    const { signById } = await import('../../../support/saml-forge.js');
    const req = logoutRequestXml({ idpEntityId: IDP, destination: sloUrl, nameId: 'n1', sessionIndex: '_s', id: '_lr1' });
    const postSlo = (xml: string) => c.handleSlo({ method: 'POST', query: {}, rawQuery: '', body: { SAMLRequest: b64(xml) } });
    await expect(postSlo(req)).rejects.toThrow(/missing or not valid/);
    await expect(postSlo(signById(req, '_lr1', attacker))).rejects.toThrow(/missing or not valid/);
    await expect(postSlo(signById(req, '_lr1', idpKeys))).resolves.toMatchObject({ kind: 'request', request: { nameId: 'n1', sessionIndexes: ['_s'] } });
  });

  it('refuses a LogoutRequest from another issuer, for another destination, or too old', async () => {
    const c = connector();
    const signed = (o: Partial<Parameters<typeof logoutRequestXml>[0]>) => redirect(c, redirectQuery('SAMLRequest', logoutRequestXml({ idpEntityId: IDP, destination: sloUrl, nameId: 'n', ...o }), { signer: idpKeys }));
    await expect(signed({ idpEntityId: 'https://other-idp.test/' })).rejects.toThrow(/another identity provider/);
    await expect(signed({ destination: 'https://elsewhere.test/slo' })).rejects.toThrow(/another address/);
    await expect(signed({ issuedAt: Date.now() - 3600_000 })).rejects.toThrow(/too old/);
  });
});

function lFields(l: LoginUnderAttack) {
  return { idpEntityId: l.idpEntityId, spEntityId: l.spEntityId, acsUrl: l.acsUrl, inResponseTo: l.requestId };
}
