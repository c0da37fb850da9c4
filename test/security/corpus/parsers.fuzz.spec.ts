import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { parseForm } from '../../../src/oauth2/introspect/introspection.endpoint.js';
import { formBody, formParams } from '../../../src/oauth2/token/form-params.js';
import { InvalidRequestError, InvalidScopeError, OAuthError } from '../../../src/oauth2/errors.js';
import { readJson } from '../../../src/compat/matrix-json-body.js';
import { parseLoginRequest } from '../../../src/compat/login-request.js';
import { MatrixError } from '../../../src/matrix/matrix-error.js';
import { validateRegistration } from '../../../src/oauth2/registration/client-metadata.js';
import { canonicalRedirectUri, checkRedirectUri, redirectUriMatches } from '../../../src/oauth2/clients/redirect-uri.rules.js';
import { checkRedirectUrl } from '../../../src/login/sso-redirect-url.js';
import { safeReturn } from '../../../src/web/language.controller.js';
import { deviceIdProblem, isScopeToken, parseScope } from '../../../src/oauth2/scopes/scope.js';
import { parseLogoutRequest, parseValidationResponse } from '../../../src/upstream/cas/cas-protocol.js';
import { CasXmlError } from '../../../src/upstream/cas/cas-xml.js';
import { verifySamlResponse, type ResponseCheck } from '../../../src/upstream/saml/saml-response.js';
import { inlineIdp } from '../../../src/upstream/saml/idp-metadata.js';
import { UpstreamError } from '../../../src/upstream/connector.js';
import { BACKCHANNEL_LOGOUT_EVENT, LogoutTokenError, verifyLogoutToken } from '../../../src/upstream/oidc/logout-token.js';
import { compileTemplate, renderTemplate, templateProblem, TemplateError, toLocalpart } from '../../../src/upstream/mapping/template-engine.js';
import { assertionProblem } from '../../../src/upstream/assertion-check.js';
import { isNonPublicAddress } from '../../../src/oauth2/avatar/avatar-fetch.js';
import { b64, fixtureKeys, responseXml, signAssertion } from '../../support/saml-forge.js';

/**
 * Property-based fuzzing (fast-check) of the pure functions that read attacker input: they never
 * throw anything but their protocol's own error, what they accept keeps their grammar, canonical
 * forms are idempotent, and a refusal stays a refusal whatever is added around it. Run counts are
 * bounded (RUNS) so the file stays a few seconds; FC_SEED / FC_RUNS reproduce or deepen a run.
 */
const RUNS = Number(process.env.FC_RUNS ?? 0) || undefined;
const runs = (n: number) => ({ numRuns: RUNS ?? n, ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}) });

/** Characters attackers reach for: controls, separators, encodings, bidi, confusables, XML and template syntax. */
const HOSTILE_CHARS = [
  '\u0000',
  '\t',
  '\n',
  '\r',
  '\u007f',
  ' ',
  '\\',
  '/',
  '@',
  ':',
  '.',
  '%',
  '%00',
  '%2e',
  '%2F',
  '#',
  '?',
  '&',
  '=',
  '+',
  '"',
  "'",
  '<',
  '>',
  '\u202E',
  '\u200B',
  '\u00A0',
  'а',
  'ο',
  '＠',
  '{{',
  '}}',
  '{%',
  '%}',
  ';',
  ',',
];
const hostileChar = fc.constantFrom(...HOSTILE_CHARS);
/** A string mixing ordinary text with hostile characters. */
const hostileString = fc.array(fc.oneof(fc.string({ maxLength: 6 }), hostileChar, fc.string({ unit: 'grapheme', maxLength: 3 })), { maxLength: 12 }).map((parts) => parts.join(''));
/** `s` with hostile characters inserted at random places. */
const mutated = (s: string) =>
  fc.array(fc.tuple(fc.nat({ max: s.length }), hostileChar), { minLength: 1, maxLength: 4 }).map((edits) => {
    let out = s;
    for (const [at, c] of edits.sort((a, b) => b[0] - a[0])) out = out.slice(0, at) + c + out.slice(at);
    return out;
  });

const CONTROL = /[\u0000-\u001F\u007F]/;
/** Bodies may carry TAB, LF and CR (multi-line text, XML); no other control character. */
const CONTROL_IN_BODY = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

describe('form bodies', () => {
  it('the raw introspection parser and formParams: a map of single strings without control characters, or invalid_request', () => {
    fc.assert(
      fc.property(fc.oneof(hostileString, fc.string({ unit: 'binary', maxLength: 80 })), (raw) => {
        try {
          const params = formParams(parseForm(raw));
          for (const [k, v] of Object.entries(params)) {
            expect(typeof v).toBe('string');
            expect(v).not.toBe('');
            expect(CONTROL.test(k) || CONTROL.test(v)).toBe(false);
          }
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidRequestError);
        }
      }),
      runs(400),
    );
  });

  it('round-trips what a client encodes, and refuses a repeated name', () => {
    const safe = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).filter((s) => !CONTROL.test(s));
    fc.assert(
      fc.property(fc.dictionary(safe, safe, { minKeys: 1, maxKeys: 6 }), (record) => {
        expect({ ...parseForm(new URLSearchParams(record).toString()) }).toEqual(record);
        const [k, v] = Object.entries(record)[0]!;
        const twice = `${new URLSearchParams(record)}&${new URLSearchParams({ [k]: v })}`;
        expect(() => formParams(parseForm(twice))).toThrow(InvalidRequestError);
      }),
      runs(200),
    );
  });

  it('formBody takes application/x-www-form-urlencoded only: any other content type is invalid_request', () => {
    const type = fc.oneof(fc.constantFrom('application/json', 'text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencodedx', ' application/x-www-form-urlencoded', ''), hostileString);
    fc.assert(
      fc.property(type, (t) => {
        const form = /^application\/x-www-form-urlencoded\s*(;|$)/i.test(t);
        const call = () => formBody({ headers: { 'content-type': t }, body: { grant_type: 'x' } });
        if (form) expect(call()).toEqual({ grant_type: 'x' });
        else expect(call).toThrow(InvalidRequestError);
      }),
      runs(200),
    );
  });
});

describe('JSON bodies', () => {
  it('the compat layer: any bytes and content type give a value or a Matrix 4xx, never another exception', () => {
    const contentType = fc.option(fc.oneof(fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/x+json', 'text/json', 'application/x-www-form-urlencoded'), hostileString), {
      nil: undefined,
    });
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
      fc.json({ maxDepth: 4 }).map((s) => Buffer.from(s)),
      hostileString.map((s) => Buffer.from(s)),
      fc.nat({ max: 3000 }).map((n) => Buffer.from(`${'['.repeat(n)}${']'.repeat(n)}`)),
    );
    fc.assert(
      fc.property(contentType, body, (type, raw) => {
        try {
          readJson(type, raw);
        } catch (e) {
          expect(e).toBeInstanceOf(MatrixError);
          expect((e as MatrixError).status).toBeGreaterThanOrEqual(400);
          expect((e as MatrixError).status).toBeLessThan(500);
        }
      }),
      runs(400),
    );
  });

  it('compat /login: a request parses or is a Matrix 400, and a control character in any string is refused', () => {
    const value = fc.oneof(hostileString, fc.integer(), fc.boolean(), fc.constant(null), fc.array(hostileString, { maxLength: 2 }));
    const request = fc.record({
      type: fc.constantFrom('m.login.token', 'm.login.password', 'm.login.application_service', 'x'),
      token: value,
      device_id: fc.option(value, { nil: undefined }),
      initial_device_display_name: fc.option(value, { nil: undefined }),
    });
    fc.assert(
      fc.property(request, (r) => {
        const raw = Buffer.from(JSON.stringify(r));
        const hasControl = Object.values(r).some((v) => typeof v === 'string' && CONTROL_IN_BODY.test(v));
        try {
          parseLoginRequest(readJson('application/json', raw));
          expect(hasControl).toBe(false);
        } catch (e) {
          expect(e).toBeInstanceOf(MatrixError);
          expect((e as MatrixError).status).toBe(400);
        }
      }),
      runs(300),
    );
  });

  it('registration metadata: any JSON value is registered or refused with an OAuth 400, never a crash', () => {
    const uri = fc.oneof(fc.webUrl(), hostileString, mutated('https://client.example/cb'));
    const body = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record(
        {
          client_uri: uri,
          redirect_uris: fc.array(uri, { maxLength: 3 }),
          application_type: fc.constantFrom('web', 'native', 'x'),
          token_endpoint_auth_method: fc.constantFrom('none', 'client_secret_basic', 'private_key_jwt'),
          grant_types: fc.array(fc.constantFrom('authorization_code', 'refresh_token', 'implicit', 'password'), { maxLength: 3 }),
          client_name: hostileString,
        },
        { requiredKeys: [] },
      ),
    );
    fc.assert(
      fc.property(body, (b) => {
        try {
          const out = validateRegistration(b, { allowInsecure: false });
          // What is stored is canonical and carries no backslash or userinfo.
          for (const r of out.redirect_uris ?? []) {
            expect(canonicalRedirectUri(r)).toBe(r);
            expect(new URL(r).username).toBe('');
          }
        } catch (e) {
          expect(e).toBeInstanceOf(OAuthError);
          expect((e as OAuthError).status).toBe(400);
        }
      }),
      runs(300),
    );
  });
});

describe('redirect URIs', () => {
  const REGISTERED = ['https://client.example/cb', 'https://client.example/cb?x=1', 'http://127.0.0.1/callback', 'com.example.app:/oauth'];
  const candidates = fc.oneof(fc.constantFrom(...REGISTERED).chain(mutated), fc.webUrl({ withQueryParameters: true, withFragments: true }), hostileString);

  it('canonical forms are idempotent and never hold a backslash, whitespace, control character or port 0', () => {
    fc.assert(
      fc.property(candidates, (raw) => {
        const c = canonicalRedirectUri(raw);
        if (c === undefined) return;
        expect(canonicalRedirectUri(c)).toBe(c);
        expect(/[\\\s\u0000-\u001F\u007F]/.test(c)).toBe(false);
        expect(new URL(c).port).not.toBe('0');
      }),
      runs(500),
    );
  });

  it('a match never reaches another origin (except a loopback port), nor carries userinfo or a backslash', () => {
    fc.assert(
      fc.property(fc.constantFrom(...REGISTERED), candidates, (registered, requested) => {
        if (!redirectUriMatches(registered, requested)) return;
        const want = new URL(requested);
        const have = new URL(registered);
        expect(requested.includes('\\')).toBe(false);
        expect(want.username + want.password).toBe('');
        expect(want.protocol).toBe(have.protocol);
        expect(want.hostname).toBe(have.hostname);
        if (have.port !== '' || have.hostname !== '127.0.0.1') expect(want.port).toBe(have.port);
      }),
      runs(500),
    );
  });

  it('refusals stay refusals: a registered URI refused at registration is refused in any canonical spelling too', () => {
    const clientUri = new URL('https://client.example/');
    fc.assert(
      fc.property(candidates, (raw) => {
        if (checkRedirectUri(raw, 'web', clientUri, { allowInsecure: false }) === undefined) return;
        const c = canonicalRedirectUri(raw);
        if (c !== undefined) expect(checkRedirectUri(c, 'web', clientUri, { allowInsecure: false })).toBeDefined();
      }),
      runs(400),
    );
  });

  it('compat redirectUrl: never throws; what passes has no userinfo and no script or local scheme', () => {
    fc.assert(
      fc.property(fc.oneof(candidates, fc.constantFrom('javascript:alert(1)', 'JaVaScRiPt:alert(1)', ' javascript:x', 'data:,x', 'vbscript:x', 'file:///etc/passwd', 'blob:https://a/b').chain(mutated)), (raw) => {
        const r = checkRedirectUrl(raw);
        if (!r.ok) return;
        expect(r.url.username + r.url.password).toBe('');
        expect(['javascript:', 'data:', 'vbscript:', 'blob:', 'file:', 'about:']).not.toContain(r.url.protocol);
      }),
      runs(400),
    );
  });

  it('the language switch returns only under the public base', () => {
    const base = 'https://id.example.org/causeway/';
    fc.assert(
      fc.property(fc.oneof(candidates, fc.constantFrom('/x', '//evil.example', '/\\evil.example', 'account/', '../../x', '%2e%2e/').chain(mutated)), (back) => {
        const out = new URL(safeReturn(base, back));
        expect(out.origin).toBe('https://id.example.org');
        expect(out.pathname.startsWith('/causeway/')).toBe(true);
      }),
      runs(400),
    );
  });
});

describe('scopes', () => {
  const TOKENS = [
    'openid',
    'urn:matrix:client:api:*',
    'urn:matrix:org.matrix.msc2967.client:api:*',
    'urn:synapse:admin:*',
    'urn:causeway:admin',
    'urn:matrix:client:device:ABCDEF',
    'urn:matrix:client:device:..',
    'profile',
    'email',
  ];
  const token = fc.oneof(fc.constantFrom(...TOKENS), fc.constantFrom(...TOKENS).chain(mutated), fc.string({ maxLength: 10 }));
  const scope = fc.array(token, { maxLength: 6 }).chain((ts) => fc.constantFrom(' ', '  ').map((sep) => ts.join(sep)));

  it('parses into tokens of the RFC 6749 grammar and a valid device id, or is invalid_scope; parsing its own output gives it back', () => {
    fc.assert(
      fc.property(scope, (raw) => {
        let parsed;
        try {
          parsed = parseScope(raw);
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidScopeError);
          return;
        }
        for (const t of parsed.tokens) expect(isScopeToken(t)).toBe(true);
        if (parsed.deviceId !== undefined) expect(deviceIdProblem(parsed.deviceId)).toBeUndefined();
        expect(parseScope(parsed.tokens.join(' ')).tokens).toEqual(parsed.tokens);
      }),
      runs(500),
    );
  });

  it('refusals stay refusals: a token outside the grammar spoils the scope whatever surrounds it', () => {
    const bad = fc.constantFrom(...TOKENS).chain((t) => fc.tuple(fc.nat({ max: t.length }), fc.constantFrom('\u0000', '"', '\\', '\u202E', 'é', '\u00A0')).map(([at, c]) => t.slice(0, at) + c + t.slice(at)));
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 4 }), bad, fc.nat({ max: 4 }), (good, b, at) => {
        const tokens = [...good];
        tokens.splice(Math.min(at, tokens.length), 0, b);
        expect(() => parseScope(tokens.join(' '))).toThrow(InvalidScopeError);
      }),
      runs(300),
    );
  });
});

describe('CAS XML', () => {
  const cas = (inner: string) => `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">${inner}</cas:serviceResponse>`;
  const xmlish = fc.oneof(
    hostileString,
    hostileString.map((s) => cas(`<cas:authenticationSuccess><cas:user>${s}</cas:user></cas:authenticationSuccess>`)),
    hostileString.map((s) => cas(`<cas:authenticationFailure code="${s}">${s}</cas:authenticationFailure>`)),
    fc.constantFrom('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', '<?xml version="1.0"?>', '<![CDATA[', '&#0;', '&e;', '<cas:user>a</cas:user><cas:user>b</cas:user>').map(cas),
  );

  it('a validation response is a result or a CasXmlError, never another exception', () => {
    fc.assert(
      fc.property(xmlish, (xml) => {
        try {
          const r = parseValidationResponse(xml);
          // Only characters XML allows (the login refuses the other controls: assertion-check.ts).
          if (r.ok) expect(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/.test(r.user)).toBe(false);
        } catch (e) {
          expect(e).toBeInstanceOf(CasXmlError);
        }
      }),
      runs(400),
    );
  });

  it('the user a server names comes back exactly, whatever characters it holds (escaped as XML)', () => {
    const user = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).filter((s) => s.trim() === s && s !== '' && !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/.test(s));
    const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    fc.assert(
      fc.property(user, (u) => {
        const r = parseValidationResponse(cas(`<cas:authenticationSuccess><cas:user>${esc(u)}</cas:user></cas:authenticationSuccess>`));
        expect(r).toMatchObject({ ok: true, user: u });
      }),
      runs(300),
    );
  });

  it('a logout request gives a service ticket or a CasXmlError', () => {
    const lr = (s: string) =>
      `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="x" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"><saml:NameID>@NOT_USED@</saml:NameID><samlp:SessionIndex>${s}</samlp:SessionIndex></samlp:LogoutRequest>`;
    fc.assert(
      fc.property(
        fc.oneof(
          hostileString,
          hostileString.map(lr),
          hostileString.map((s) => lr(`ST-${s}`)),
        ),
        (xml) => {
          try {
            expect(parseLogoutRequest(xml).sessionIndex).toMatch(/^ST-[\x21-\x7e]+$/);
          } catch (e) {
            expect(e).toBeInstanceOf(CasXmlError);
          }
        },
      ),
      runs(300),
    );
  });
});

describe('SAML responses', () => {
  const idpKeys = fixtureKeys('idp');
  const sp = fixtureKeys('sp');
  const IDP = 'https://idp.fuzz.test/idp';
  const SP = 'https://sp.fuzz.test/metadata';
  const ACS = 'https://sp.fuzz.test/acs';
  const check = (requestId: string): ResponseCheck => ({
    idp: inlineIdp({ entity_id: IDP, sso_url: 'https://idp.fuzz.test/sso', sso_binding: 'redirect', certs: [idpKeys.cert] }),
    spEntityId: SP,
    acsUrl: ACS,
    spKey: sp.key,
    signature: 'assertion',
    encryptedAssertions: 'optional',
    clockSkewSeconds: 60,
    maxMessageSize: 256 * 1024,
    allowSha1: false,
    requestId,
    requestIssuedAt: new Date(Date.now() - 10_000).toISOString(),
    now: Date.now(),
  });
  const good = () => signAssertion(responseXml({ idpEntityId: IDP, spEntityId: SP, acsUrl: ACS, inResponseTo: '_req1', nameId: 'opaque-alice', attributes: [{ name: 'uid', values: ['alice'] }] }), idpKeys);

  it('baseline: the untouched signed response is accepted (so the refusals below are the checks at work)', async () => {
    expect((await verifySamlResponse(b64(good()), check('_req1'))).nameId?.value).toBe('opaque-alice');
  });

  it('any change inside the signed assertion is refused, never accepted with other content', async () => {
    const xml = good();
    const start = xml.indexOf('<saml:Assertion');
    const end = xml.indexOf('</saml:Assertion>');
    const sigStart = xml.search(/<(ds:)?Signature[\s>]/);
    const sigClose = /<\/(ds:)?Signature>/.exec(xml)!;
    const sigEnd = sigClose.index + sigClose[0].length;
    expect(start < sigStart && sigEnd < end).toBe(true);
    // Inside the signed element, outside the signature itself: bytes the digest covers.
    const position = fc.oneof(fc.integer({ min: start + 20, max: sigStart - 1 }), fc.integer({ min: sigEnd, max: end - 1 }));
    await fc.assert(
      fc.asyncProperty(position, fc.constantFrom('a', 'Z', '0', ' ', '<!---->', '"', 'é'), async (at, c) => {
        const changed = xml.slice(0, at) + c + xml.slice(at + 1);
        if (changed === xml) return;
        try {
          const v = await verifySamlResponse(b64(changed), check('_req1'));
          // Only a change the canonical form cannot see (whitespace between attributes) may pass, with the same content.
          expect(v.nameId?.value).toBe('opaque-alice');
          expect(v.attributes).toEqual([expect.objectContaining({ name: 'uid', values: ['alice'] })]);
        } catch (e) {
          expect(e).toBeInstanceOf(UpstreamError);
          expect((e as UpstreamError).status).toBeLessThan(500);
        }
      }),
      runs(80),
    );
  });

  it('arbitrary input at the ACS is an UpstreamError (4xx), never another exception', async () => {
    const input = fc.oneof(
      hostileString,
      hostileString.map(b64),
      hostileString.map((s) => b64(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">${s}</samlp:Response>`)),
      fc.constant(b64('<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>')),
      fc.jsonValue(),
    );
    await fc.assert(
      fc.asyncProperty(input, async (raw) => {
        await expect(verifySamlResponse(raw, check('_req1'))).rejects.toBeInstanceOf(UpstreamError);
      }),
      runs(200),
    );
  });
});

describe('logout tokens', () => {
  const keysReady = (async () => {
    const own = await generateKeyPair('RS256');
    const other = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(own.publicKey)), kid: 'k1', alg: 'RS256' };
    return { own, other, keys: createLocalJWKSet({ keys: [jwk] }) };
  })();
  const ISS = 'https://idp.fuzz.test';
  const AUD = 'causeway';
  const now = () => Math.floor(Date.now() / 1000);
  /** Each breaks exactly one rule of OIDC Back-Channel Logout §2.4/§2.6. */
  const VIOLATIONS = ['iss', 'aud', 'no-events', 'event-not-object', 'nonce', 'no-sid-no-sub', 'sid-empty', 'no-jti', 'old-iat', 'future-iat', 'foreign-key', 'typ', 'hs256'] as const;

  it('a token that breaks any one rule is refused with a LogoutTokenError, whatever else it carries', async () => {
    const { own, other, keys } = await keysReady;
    const extra = fc.dictionary(fc.constantFrom('name', 'email', 'acr', 'amr', 'x'), hostileString, { maxKeys: 3 });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...VIOLATIONS), extra, fc.boolean(), async (v, more, withSid) => {
        const c: Record<string, unknown> = { ...more, iss: ISS, aud: AUD, iat: now(), jti: 'j', sub: 'alice', ...(withSid ? { sid: 's1' } : {}), events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } };
        let key: Parameters<SignJWT['sign']>[0] = own.privateKey;
        const header: Record<string, string> = { alg: 'RS256', kid: 'k1', typ: 'logout+jwt' };
        if (v === 'iss') c.iss = 'https://evil.example';
        if (v === 'aud') c.aud = 'another';
        if (v === 'no-events') delete c.events;
        if (v === 'event-not-object') c.events = { [BACKCHANNEL_LOGOUT_EVENT]: 'yes' };
        if (v === 'nonce') c.nonce = 'n';
        if (v === 'no-sid-no-sub') (delete c.sid, delete c.sub);
        if (v === 'sid-empty') c.sid = '';
        if (v === 'no-jti') delete c.jti;
        if (v === 'old-iat') c.iat = now() - 3600;
        if (v === 'future-iat') c.iat = now() + 3600;
        if (v === 'foreign-key') key = other.privateKey;
        if (v === 'typ') header.typ = 'JWT+evil';
        if (v === 'hs256') ((header.alg = 'HS256'), (key = new TextEncoder().encode('a-guessed-client-secret-of-32-chars')));
        const token = await new SignJWT(c).setProtectedHeader(header as never).sign(key);
        await expect(verifyLogoutToken(token, { issuer: ISS, clientId: AUD, keys, clockSkewSeconds: 30 })).rejects.toBeInstanceOf(LogoutTokenError);
      }),
      runs(150),
    );
  });

  it('arbitrary strings are a LogoutTokenError, never another exception', async () => {
    const { keys } = await keysReady;
    const jwtish = fc.tuple(hostileString, hostileString, hostileString).map((p) => p.map((s) => Buffer.from(s).toString('base64url')).join('.'));
    await fc.assert(
      fc.asyncProperty(fc.oneof(hostileString, jwtish), async (t) => {
        await expect(verifyLogoutToken(t, { issuer: ISS, clientId: AUD, keys, clockSkewSeconds: 30 })).rejects.toBeInstanceOf(LogoutTokenError);
      }),
      runs(200),
    );
  });
});

describe('Liquid templates and the values they read', () => {
  it('attribute values are data: template syntax inside them is printed, never run', () => {
    const t = compileTemplate('{{ user.name }}');
    const value = fc.oneof(hostileString, fc.constantFrom('{{ user.secret }}', '{% for i in (1..999999) %}x{% endfor %}', '{{ "x" | append: user.name }}', '{%- raw -%}'));
    fc.assert(
      fc.property(value, (v) => {
        try {
          expect(renderTemplate(t, { name: v, secret: 'S3CRET' })).toBe(v.trim());
        } catch (e) {
          expect(e).toBeInstanceOf(TemplateError);
        }
      }),
      runs(300),
    );
  });

  it('any template source is judged (templateProblem) without throwing', () => {
    const source = fc.oneof(
      hostileString,
      hostileString.map((s) => `{{ ${s} }}`),
      hostileString.map((s) => `{% ${s} %}`),
      fc.constantFrom('{% for a in (1..100000) %}{% for b in (1..100000) %}x{% endfor %}{% endfor %}', '{% include "/etc/passwd" %}', '{% render "x" %}'),
    );
    fc.assert(
      fc.property(source, (s) => {
        expect(['string', 'undefined']).toContain(typeof templateProblem(s));
      }),
      runs(300),
    );
  });

  it('toLocalpart always yields the Matrix localpart grammar (or nothing)', () => {
    fc.assert(
      fc.property(fc.oneof(hostileString, fc.string({ unit: 'grapheme', maxLength: 40 })), (v) => {
        expect(toLocalpart(v)).toMatch(/^[a-z0-9._=\-/+]*$/);
      }),
      runs(400),
    );
  });
});

describe('assertions from any connector', () => {
  it('a control character in the subject, session id or an attribute (other than TAB/LF/CR in values) is always refused', () => {
    const id = fc.oneof(hostileString, fc.string({ minLength: 1, maxLength: 20 }));
    fc.assert(
      fc.property(id, fc.option(id, { nil: undefined }), fc.dictionary(id, fc.oneof(id, fc.array(id, { maxLength: 3 })), { maxKeys: 4 }), (subject, sid, attributes) => {
        const problem = assertionProblem({ providerId: 'p', subject, attributes, ...(sid !== undefined ? { upstreamSid: sid } : {}) });
        const values = Object.values(attributes).flat();
        const bad =
          subject === '' ||
          subject.length > 512 ||
          CONTROL.test(subject) ||
          (sid !== undefined && (sid.length > 512 || CONTROL.test(sid))) ||
          Object.keys(attributes).some((k) => CONTROL.test(k)) ||
          values.some((v) => /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.test(v));
        expect(problem !== undefined).toBe(bad);
      }),
      runs(400),
    );
  });
});

describe('avatar addresses (an IdP names the URL, Causeway fetches it)', () => {
  const hex = (a: number, b: number) => ((a << 8) | b).toString(16);
  const octet = fc.integer({ min: 0, max: 255 });
  /** IPv4 addresses no avatar fetch may reach: loopback, private, link-local, carrier-grade NAT. */
  const privateV4 = fc.oneof(
    fc.tuple(fc.constant(127), octet, octet, octet),
    fc.tuple(fc.constant(10), octet, octet, octet),
    fc.tuple(fc.constant(192), fc.constant(168), octet, octet),
    fc.tuple(fc.constant(172), fc.integer({ min: 16, max: 31 }), octet, octet),
    fc.tuple(fc.constant(169), fc.constant(254), octet, octet),
    fc.tuple(fc.constant(100), fc.integer({ min: 64, max: 127 }), octet, octet),
  );
  it('an IPv6 address carrying a non-public IPv4 address, in any standard embedding, is non-public', () => {
    const embed = (v: number[]) => [
      v.join('.'),
      `::ffff:${v.join('.')}`,
      `::ffff:${hex(v[0]!, v[1]!)}:${hex(v[2]!, v[3]!)}`,
      `0:0:0:0:0:ffff:${hex(v[0]!, v[1]!)}:${hex(v[2]!, v[3]!)}`,
      `::${hex(v[0]!, v[1]!)}:${hex(v[2]!, v[3]!)}`,
      `::ffff:0:${hex(v[0]!, v[1]!)}:${hex(v[2]!, v[3]!)}`,
      `64:ff9b::${hex(v[0]!, v[1]!)}:${hex(v[2]!, v[3]!)}`,
      `2002:${hex(v[0]!, v[1]!)}:${hex(v[2]!, v[3]!)}::1`,
    ];
    fc.assert(
      fc.property(privateV4, (v) => {
        for (const a of embed(v)) expect([a, isNonPublicAddress(a)]).toEqual([a, true]);
      }),
      runs(300),
    );
  });
});
