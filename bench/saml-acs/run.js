// SAML ACS validation benchmark: how many SAMLResponses one core verifies per second with the
// shipped code (dist/upstream/saml/saml-response.js: strict base64, DTD refusal, node-saml's XML
// signature checks, then issuer/destination/recipient/InResponseTo/time checks), for a signed
// assertion, a signed response + assertion, an encrypted assertion, and a wrapped (refused) one.
// RSA-2048 keys from test/fixtures/saml. Prints a table; asserts nothing. Most of the time of an
// accepted response goes to node-saml/xml-crypto (their xpath library builds a parser per query).
//
//   npm run bench:saml-acs           (BENCH_SECONDS=3 by default per case)
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { SignedXml } from 'xml-crypto';
import xmlenc from 'xml-encryption';
import { verifySamlResponse } from '../../dist/upstream/saml/saml-response.js';
import { inlineIdp } from '../../dist/upstream/saml/idp-metadata.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const FIX = fileURLToPath(new URL('../../test/fixtures/saml/', import.meta.url));
const read = (f) => readFileSync(FIX + f, 'utf8');
const idpKey = { key: read('idp.key'), cert: read('idp.crt') };
const sp = { key: read('sp.key'), cert: read('sp.crt') };
const IDP = 'https://idp.example.test/idp';
const SP = 'https://auth.example.test/upstream/bench/saml/metadata';
const ACS = 'https://auth.example.test/upstream/bench/callback';
const REQ = '_benchrequest';
const iso = (ms) => new Date(ms).toISOString();

/** @param {{ assertionId?: string, inner?: string }} [opts] */
function response({ assertionId = `_${randomBytes(16).toString('hex')}`, inner } = {}) {
  const now = Date.now();
  const until = iso(now + 300_000);
  const assertion =
    inner ??
    `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${assertionId}" Version="2.0" IssueInstant="${iso(now)}"><saml:Issuer>${IDP}</saml:Issuer>` +
      `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">opaque-alice</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="${until}" Recipient="${ACS}" InResponseTo="${REQ}"/></saml:SubjectConfirmation></saml:Subject>` +
      `<saml:Conditions NotBefore="${iso(now - 30_000)}" NotOnOrAfter="${until}"><saml:AudienceRestriction><saml:Audience>${SP}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
      `<saml:AuthnStatement AuthnInstant="${iso(now)}" SessionIndex="_s1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
      `<saml:AttributeStatement><saml:Attribute Name="urn:oid:0.9.2342.19200300.100.1.3" FriendlyName="mail"><saml:AttributeValue>alice@example.org</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion>`;
  return `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r${randomBytes(8).toString('hex')}" Version="2.0" IssueInstant="${iso(now)}" Destination="${ACS}" InResponseTo="${REQ}"><saml:Issuer>${IDP}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>${assertion}</samlp:Response>`;
}

function sign(xml, localName) {
  const id = new RegExp(`<[a-z]+:${localName} [^>]*ID="([^"]+)"`).exec(xml)[1];
  const sig = new SignedXml({
    privateKey: idpKey.key,
    publicCert: idpKey.cert,
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  sig.addReference({
    xpath: `//*[@ID='${id}']`,
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
  });
  sig.computeSignature(xml, { location: { reference: `//*[@ID='${id}']/*[local-name(.)='Issuer']`, action: 'after' } });
  return sig.getSignedXml();
}

async function encryptAsync(assertion) {
  return new Promise((resolve, reject) =>
    xmlenc.encrypt(
      assertion,
      {
        rsa_pub: sp.cert,
        pem: sp.cert,
        encryptionAlgorithm: 'http://www.w3.org/2001/04/xmlenc#aes128-cbc',
        keyEncryptionAlgorithm: 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
        disallowEncryptionWithInsecureAlgorithm: false,
        warnInsecureAlgorithm: false,
      },
      (e, r) => (e ? reject(e) : resolve(r)),
    ),
  );
}

// Built once, as the connector does (the metadata source keeps the parsed IdP).
const idp = inlineIdp({ entity_id: IDP, sso_url: 'https://idp.example.test/sso', sso_binding: 'redirect', certs: [idpKey.cert] });
/** @returns {import('../../dist/upstream/saml/saml-response.js').ResponseCheck} */
const check = (/** @type {any} */ signature) => ({
  idp,
  spEntityId: SP,
  acsUrl: ACS,
  spKey: sp.key,
  signature,
  encryptedAssertions: 'optional',
  clockSkewSeconds: 60,
  maxMessageSize: 256 * 1024,
  allowSha1: false,
  requestId: REQ,
  requestIssuedAt: new Date().toISOString(),
  now: Date.now(),
});

async function measure(name, b64, signature, expectOk) {
  let n = 0;
  const start = process.hrtime.bigint();
  const deadline = Date.now() + SECONDS * 1000;
  while (Date.now() < deadline) {
    const ok = await verifySamlResponse(b64, { ...check(signature), now: Date.now() }).then(
      () => true,
      () => false,
    );
    if (ok !== expectOk) throw new Error(`${name}: expected ${expectOk ? 'acceptance' : 'refusal'}`);
    n++;
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { case: name, 'verifications/s': Math.round((n * 1000) / ms), 'mean ms': (ms / n).toFixed(2), runs: n };
}

const b64 = (s) => Buffer.from(s).toString('base64');
const signedAssertion = sign(response(), 'Assertion');
const both = sign(signedAssertion, 'Response');
const assertion = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(signedAssertion)[0];
const encXml = await encryptAsync(assertion);
const encResponse = sign(response({ inner: `<saml:EncryptedAssertion>${encXml}</saml:EncryptedAssertion>` }), 'Response');
const wrapped = signedAssertion.replace('<saml:Assertion ', `${/<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(response())[0]}<saml:Assertion `);

const rows = [];
rows.push(await measure('signed assertion (policy: assertion)', b64(signedAssertion), 'assertion', true));
rows.push(await measure('signed response + assertion (policy: both)', b64(both), 'both', true));
rows.push(await measure('signed response, encrypted assertion (policy: response)', b64(encResponse), 'response', true));
rows.push(await measure('wrapped: extra unsigned assertion (refused)', b64(wrapped), 'assertion', false));
rows.push(await measure('unsigned assertion (refused)', b64(response()), 'assertion', false));
console.log(`SAML ACS validation, one core, ${SECONDS} s per case (node ${process.version})`);
console.table(rows);
