import { readFileSync } from 'node:fs';
import { aggregateXml, certBody, syntheticIdp } from '../../bench/saml-federation/aggregate.js';
import { fixtureKeys } from './saml-forge.js';

/**
 * A federation aggregate for tests: real entities (the SimpleSAMLphp peer's metadata, made to
 * look like a federation member with mdui and a scope) plus `count` generated IdPs, signed with
 * xmlsec1 by the test federation key (test/fixtures/saml/metadata-signer.*), as federation
 * operators sign theirs. Generated per run, never committed.
 */
export const FEDERATION_SIGNER = fixtureKeys('metadata-signer');
export const FEDERATION_CERT_FILE = new URL('../fixtures/saml/metadata-signer.crt', import.meta.url).pathname;

/** A federation member from an IdP's own metadata: XML declaration dropped, mdui and scope added. */
export function asFederationMember(entityXml: string, o: { displayName: string; scope: string; logo?: string }): string {
  const body = entityXml.replace(/^<\?xml[^>]*\?>\s*/, '');
  const ext =
    `<md:Extensions><shibmd:Scope xmlns:shibmd="urn:mace:shibboleth:metadata:1.0" regexp="false">${o.scope}</shibmd:Scope>` +
    `<mdui:UIInfo xmlns:mdui="urn:oasis:names:tc:SAML:metadata:ui"><mdui:DisplayName xml:lang="en">${o.displayName}</mdui:DisplayName>` +
    (o.logo ? `<mdui:Logo height="32" width="32">${o.logo}</mdui:Logo>` : '') +
    `</mdui:UIInfo></md:Extensions>`;
  return body.replace(/(<md:IDPSSODescriptor[^>]*>)/, `$1${ext}`);
}

/** A minimal IdP entity whose key the test holds (to forge its responses). */
export function forgedIdpEntity(entityId: string, displayName: string, certPem: string, ssoUrl = 'http://127.0.0.1:9/sso'): string {
  return (
    `<md:EntityDescriptor entityID="${entityId}"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
    `<md:Extensions><mdui:UIInfo><mdui:DisplayName xml:lang="en">${displayName}</mdui:DisplayName></mdui:UIInfo></md:Extensions>` +
    `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certBody(certPem)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
    `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${ssoUrl}"/>` +
    `</md:IDPSSODescriptor></md:EntityDescriptor>`
  );
}

/** `real` entities first, then `count` generated ones (compact: about 3 KB each), signed. */
export function federationAggregate(real: string[], count: number, opts: { validUntil?: number; compact?: boolean } = {}): string {
  const certs = ['idp-next', 'sp-other', 'sp'].map((n) => certBody(readFileSync(new URL(`../fixtures/saml/${n}.crt`, import.meta.url), 'utf8')));
  const entities = [...real];
  for (let i = 0; i < count; i++) entities.push(syntheticIdp(i, { certs, compact: opts.compact ?? true }));
  return aggregateXml({ entities, signer: FEDERATION_SIGNER, tool: 'xmlsec1', validUntil: opts.validUntil ?? Date.now() + 86_400_000 });
}
