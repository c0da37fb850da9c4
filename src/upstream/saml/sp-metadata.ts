import { BINDING } from './idp-metadata.js';
import { pemBody } from './saml-certs.js';

export interface SpMetadataInput {
  entityId: string;
  acsUrl: string;
  /** Single Logout endpoint (offered with HTTP-Redirect first, then HTTP-POST); none when SLO is off. */
  sloUrl?: string;
  signingCert: string;
  /** Published with use="encryption" when assertions may be encrypted. */
  encryptionCert?: string;
  nameIdFormat?: string;
  authnRequestsSigned: boolean;
  wantAssertionsSigned: boolean;
}

const ENCRYPTION_METHODS = [
  'http://www.w3.org/2009/xmlenc11#aes256-gcm',
  'http://www.w3.org/2009/xmlenc11#aes128-gcm',
  'http://www.w3.org/2001/04/xmlenc#aes256-cbc',
  'http://www.w3.org/2001/04/xmlenc#aes128-cbc',
  'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
];

/**
 * The SP's metadata document. Written here rather than with node-saml's generator because that one
 * offers Single Logout over HTTP-POST only, which IdPs such as SimpleSAMLphp can only drive with
 * JavaScript; elements follow the order the metadata schema requires.
 */
export function spMetadataXml(m: SpMetadataInput): string {
  const key = (use: string, cert: string, extra = '') =>
    `    <md:KeyDescriptor use="${use}">\n      <ds:KeyInfo>\n        <ds:X509Data>\n          <ds:X509Certificate>${pemBody(cert)}</ds:X509Certificate>\n        </ds:X509Data>\n      </ds:KeyInfo>\n${extra}    </md:KeyDescriptor>\n`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${esc(m.entityId)}">`,
    `  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" AuthnRequestsSigned="${m.authnRequestsSigned}" WantAssertionsSigned="${m.wantAssertionsSigned}">`,
  ];
  let body = key('signing', m.signingCert);
  if (m.encryptionCert) body += key('encryption', m.encryptionCert, ENCRYPTION_METHODS.map((a) => `      <md:EncryptionMethod Algorithm="${a}"/>\n`).join(''));
  if (m.sloUrl) {
    body += `    <md:SingleLogoutService Binding="${BINDING.redirect}" Location="${esc(m.sloUrl)}"/>\n`;
    body += `    <md:SingleLogoutService Binding="${BINDING.post}" Location="${esc(m.sloUrl)}"/>\n`;
  }
  if (m.nameIdFormat) body += `    <md:NameIDFormat>${esc(m.nameIdFormat)}</md:NameIDFormat>\n`;
  body += `    <md:AssertionConsumerService Binding="${BINDING.post}" Location="${esc(m.acsUrl)}" index="0" isDefault="true"/>\n`;
  return `${lines.join('\n')}\n${body}  </md:SPSSODescriptor>\n</md:EntityDescriptor>\n`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
