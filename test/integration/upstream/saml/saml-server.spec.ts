import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { rmSync } from 'node:fs';
import { DOMParser } from '@xmldom/xmldom';
import { startCauseway, type CausewayProcess } from '../../../support/causeway.js';
import { freePort } from '../../../support/ports.js';
import { textOf } from '../../../support/browser.js';
import { fixtureKeys, idpMetadataXml, logoutRequestXml, logoutResponseXml, newId, redirectQuery } from '../../../support/saml-forge.js';

/**
 * The SAML endpoints of a running Causeway: SP metadata, Single Logout refusals, and IdP metadata
 * fetched from a URL — refreshed without a restart, kept when the URL fails (degraded on
 * /health/ready, not down), and kept across a restart while the IdP is unreachable.
 */
const IDP = 'https://idp.example.test/idp';
const idp = fixtureKeys('idp');
const next = fixtureKeys('idp-next');
const attacker = fixtureKeys('attacker');
const sp = fixtureKeys('sp');

let metadataServer: Server | undefined;
let metadataPort: number;
let servedCerts = [idp.cert];
/** What /federation serves: metadata signed by the federation key, unsigned, or signed by someone else. */
let federation: 'signed' | 'unsigned' | 'attacker' = 'signed';
const fed = fixtureKeys('metadata-signer');
let cw: CausewayProcess;

function serveMetadata(): Promise<void> {
  metadataServer = createServer((req, res) => {
    if (req.url === '/federation') {
      const signer = federation === 'signed' ? fed : federation === 'attacker' ? attacker : undefined;
      return void res
        .writeHead(200, { 'content-type': 'application/samlmetadata+xml' })
        .end(idpMetadataXml({ entityId: 'https://fed-idp.example.test/', ssoUrl: 'https://fed-idp.example.test/sso', certs: [idp.cert], ...(signer ? { signer } : {}) }));
    }
    if (req.url !== '/metadata') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(idpMetadataXml({ entityId: IDP, ssoUrl: 'https://idp.example.test/sso', sloUrl: 'https://idp.example.test/slo', certs: servedCerts }));
  });
  return new Promise((r) => metadataServer!.listen(metadataPort, '127.0.0.1', () => r()));
}
function stopMetadata(): Promise<void> {
  return new Promise((r) => (metadataServer ? metadataServer.close(() => r()) : r()));
}

const providers = () => [
  {
    id: 'corp',
    kind: 'saml',
    name: 'Corporate SAML',
    metadata_url: `http://127.0.0.1:${metadataPort}/metadata`,
    metadata_refresh: '5s',
    allow_insecure_http: true,
    sp: { key_file: sp.keyFile, cert_file: sp.certFile },
  },
  {
    id: 'fed',
    kind: 'saml',
    name: 'Federation IdP',
    metadata_url: `http://127.0.0.1:${metadataPort}/federation`,
    metadata_signing_cert_file: fed.certFile,
    metadata_refresh: '5s',
    allow_insecure_http: true,
    sp: { key_file: sp.keyFile, cert_file: sp.certFile },
  },
  {
    id: 'inline',
    kind: 'saml',
    name: 'Inline IdP',
    idp: { entity_id: 'https://inline.example.test/', sso_url: 'https://inline.example.test/sso', certs: [idp.certFile] },
    sp: { entity_id: 'urn:example:causeway-sp', key_file: sp.keyFile, cert_file: sp.certFile, sign_requests: false, encrypted_assertions: 'off' },
    signature: 'both',
  },
];

async function health(): Promise<{ status: string; components: Record<string, { status: string; detail?: string }> }> {
  const res = await fetch(`${cw.url}/health/ready`);
  expect(res.status).toBe(200);
  return (await res.json()) as never;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** An IdP-initiated LogoutRequest to corp's SLO endpoint, signed with `signer`. */
async function idpLogout(signer?: typeof idp) {
  const xml = logoutRequestXml({ idpEntityId: IDP, destination: `${cw.issuer}upstream/corp/saml/slo`, nameId: `n-${newId()}`, sessionIndex: newId() });
  return fetch(`${cw.url}/upstream/corp/saml/slo?${redirectQuery('SAMLRequest', xml, { relayState: 'rs', ...(signer ? { signer } : {}) })}`, { redirect: 'manual' });
}

beforeAll(async () => {
  metadataPort = await freePort();
  await serveMetadata();
  cw = await startCauseway({ config: { upstream: { providers: providers() } } });
});
afterAll(async () => {
  await cw?.stop();
  await cw?.database.drop();
  rmSync(cw.dir, { recursive: true, force: true });
  await stopMetadata();
});

describe('SP metadata', () => {
  it('publishes entity ID, ACS (HTTP-POST), SLO (Redirect and POST), signing and encryption certificates', async () => {
    const res = await fetch(`${cw.url}/upstream/corp/saml/metadata`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/samlmetadata\+xml/);
    const xml = await res.text();
    const doc = new DOMParser().parseFromString(xml, 'text/xml');
    const md = 'urn:oasis:names:tc:SAML:2.0:metadata';
    expect(doc.documentElement!.getAttribute('entityID')).toBe(`${cw.issuer}upstream/corp/saml/metadata`);
    const spd = doc.getElementsByTagNameNS(md, 'SPSSODescriptor')[0]!;
    expect(spd.getAttribute('AuthnRequestsSigned')).toBe('true');
    expect(spd.getAttribute('WantAssertionsSigned')).toBe('true');
    const acs = doc.getElementsByTagNameNS(md, 'AssertionConsumerService')[0]!;
    expect(acs.getAttribute('Binding')).toBe('urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST');
    expect(acs.getAttribute('Location')).toBe(`${cw.issuer}upstream/corp/callback`);
    const slo = Array.from(doc.getElementsByTagNameNS(md, 'SingleLogoutService')).map((e) => [e.getAttribute('Binding'), e.getAttribute('Location')]);
    expect(slo).toEqual([
      ['urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', `${cw.issuer}upstream/corp/saml/slo`],
      ['urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', `${cw.issuer}upstream/corp/saml/slo`],
    ]);
    const uses = Array.from(doc.getElementsByTagNameNS(md, 'KeyDescriptor')).map((k) => k.getAttribute('use'));
    expect(uses).toEqual(['signing', 'encryption']);
    expect(xml).toContain(sp.cert.split('\n')[1]!);
    expect(doc.getElementsByTagNameNS(md, 'NameIDFormat')[0]!.textContent).toBe('urn:oasis:names:tc:SAML:2.0:nameid-format:persistent');
  });

  it('follows the provider config (entity ID, no encryption key, unsigned requests)', async () => {
    const xml = await (await fetch(`${cw.url}/upstream/inline/saml/metadata`)).text();
    expect(xml).toContain('entityID="urn:example:causeway-sp"');
    expect(xml).toContain('AuthnRequestsSigned="false"');
    expect(xml).not.toContain('use="encryption"');
  });

  it('answers 404 for a provider that is not SAML', async () => {
    const res = await fetch(`${cw.url}/upstream/dev/saml/metadata`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
  });
});

describe('Single Logout endpoint refuses what the IdP did not sign', () => {
  it('LogoutRequest over Redirect without a Signature parameter → 400 page', async () => {
    const res = await idpLogout();
    expect(res.status).toBe(400);
    expect(textOf(await res.text())).toMatch(/Sign-out refused.*not signed/);
  });

  it('LogoutRequest with a forged signature → 400 page', async () => {
    const res = await idpLogout(attacker);
    expect(res.status).toBe(400);
    expect(textOf(await res.text())).toMatch(/signature on this sign-out message is not valid/);
  });

  it('LogoutResponse over Redirect without a Signature parameter → 400 page', async () => {
    const xml = logoutResponseXml({ idpEntityId: IDP, destination: `${cw.issuer}upstream/corp/saml/slo`, inResponseTo: newId() });
    const res = await fetch(`${cw.url}/upstream/corp/saml/slo?${redirectQuery('SAMLResponse', xml, { relayState: 'x' })}`, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(textOf(await res.text())).toMatch(/not signed/);
  });

  it('LogoutResponse validly signed but answering no sign-out in progress → 400 page', async () => {
    const xml = logoutResponseXml({ idpEntityId: IDP, destination: `${cw.issuer}upstream/corp/saml/slo`, inResponseTo: newId() });
    const res = await fetch(`${cw.url}/upstream/corp/saml/slo?${redirectQuery('SAMLResponse', xml, { relayState: 'x', signer: idp })}`, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(textOf(await res.text())).toMatch(/does not answer a sign-out in progress/);
  });

  it('garbage (invalid base64, a DOCTYPE, a POST without a message) → 400 pages, never 500', async () => {
    const slo = `${cw.url}/upstream/corp/saml/slo`;
    const bad = await fetch(`${slo}?SAMLRequest=%%%&Signature=x&SigAlg=${encodeURIComponent('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256')}`, { redirect: 'manual' });
    expect(bad.status).toBe(400);
    const dtd = `<!DOCTYPE x [<!ENTITY a "b">]><samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>`;
    const res = await fetch(slo, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ SAMLRequest: Buffer.from(dtd).toString('base64') }) });
    expect(res.status).toBe(400);
    expect(textOf(await res.text())).toMatch(/document type declaration/);
    const empty = await fetch(slo, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'x=1' });
    expect(empty.status).toBe(400);
  });
});

describe('IdP metadata from a URL', () => {
  it('is up on /health/ready after the start-up fetch', async () => {
    const h = await health();
    expect(h.components['saml_metadata:corp']).toEqual({ status: 'up' });
    expect(h.components['saml_metadata:inline']).toEqual({ status: 'up' });
  });

  it('picks up a new IdP signing certificate without a restart', async () => {
    // Before: a LogoutRequest signed with the next key is refused.
    expect((await idpLogout(next)).status).toBe(400);
    servedCerts = [next.cert];
    // After the refresh its signature is accepted (the message goes on to the logout itself).
    const res = await until('the new certificate', async () => {
      const r = await idpLogout(next);
      return r.status === 400 ? undefined : r;
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/^https:\/\/idp\.example\.test\/slo\?SAMLResponse=/);
    // The old key is no longer trusted.
    expect((await idpLogout(idp)).status).toBe(400);
  });

  it('with a pinned metadata signing certificate, keeps the last good metadata when the served copy is unsigned or signed by another key', async () => {
    expect((await health()).components['saml_metadata:fed']).toEqual({ status: 'up' });
    for (const [served, reason] of [
      ['unsigned', /not signed, but metadata_signing_cert requires it/],
      ['attacker', /not valid for metadata_signing_cert/],
    ] as const) {
      federation = served;
      const h = await until(`degraded (${served})`, async () => {
        const v = await health();
        return v.components['saml_metadata:fed']?.status === 'degraded' ? v : undefined;
      });
      // Degraded, not down, and still on the last good copy.
      expect(h.status).toBe('degraded');
      expect(h.components['saml_metadata:fed']!.detail).toMatch(/refresh failed, using metadata loaded at/);
      expect(h.components['saml_metadata:fed']!.detail).toMatch(reason);
      federation = 'signed';
      await until('up again', async () => ((await health()).components['saml_metadata:fed']?.status === 'up' ? true : undefined));
    }
  });

  it('keeps the last good metadata when the URL becomes unreachable, and reports degraded (not down)', async () => {
    await stopMetadata();
    const h = await until('degraded', async () => {
      const v = await health();
      return v.components['saml_metadata:corp']?.status === 'degraded' ? v : undefined;
    });
    expect(h.status).toBe('degraded');
    expect(h.components['saml_metadata:corp']!.detail).toMatch(/refresh failed, using metadata loaded at/);
    expect((await idpLogout(next)).status).toBe(303);
  });

  it('after a restart with the IdP still unreachable, uses the copy stored by the earlier run', async () => {
    await cw.stop();
    cw = await startCauseway({ database: cw.database, dir: cw.dir, port: cw.port, config: { upstream: { providers: providers() } } });
    const h = await health();
    expect(h.components['saml_metadata:corp']!.status).toBe('degraded');
    expect((await idpLogout(next)).status).toBe(303);
  });

  it('recovers (up) once the URL answers again', async () => {
    await serveMetadata();
    await until('up', async () => ((await health()).components['saml_metadata:corp']?.status === 'up' ? true : undefined));
  });
});
