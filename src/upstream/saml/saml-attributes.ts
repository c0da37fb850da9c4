import type { Element } from '@xmldom/xmldom';
import { NS, attr, children, descendants, isElement, text } from './saml-xml.js';

/** One `saml:Attribute` as sent. */
export interface SamlAttribute {
  name: string;
  friendlyName?: string;
  values: string[];
}

export interface NameId {
  value: string;
  format?: string;
  nameQualifier?: string;
  spNameQualifier?: string;
}

/**
 * Friendly names of the attributes IdPs send under OIDs (eduPerson, inetOrgPerson, SCHAC, as
 * Shibboleth, SimpleSAMLphp and InCommon/eduGAIN name them), so templates can say `user.mail`
 * whether the IdP sent `mail` or `urn:oid:0.9.2342.19200300.100.1.3`.
 */
export const WELL_KNOWN_ATTRIBUTES: Readonly<Record<string, string>> = {
  'urn:oid:0.9.2342.19200300.100.1.1': 'uid',
  'urn:oid:0.9.2342.19200300.100.1.3': 'mail',
  'urn:oid:2.16.840.1.113730.3.1.241': 'displayName',
  'urn:oid:2.5.4.42': 'givenName',
  'urn:oid:2.5.4.4': 'sn',
  'urn:oid:2.5.4.3': 'cn',
  'urn:oid:2.5.4.10': 'o',
  'urn:oid:2.5.4.11': 'ou',
  'urn:oid:2.5.4.12': 'title',
  'urn:oid:2.5.4.20': 'telephoneNumber',
  'urn:oid:2.16.840.1.113730.3.1.3': 'employeeNumber',
  'urn:oid:2.16.840.1.113730.3.1.39': 'preferredLanguage',
  'urn:oid:1.2.840.113549.1.9.1': 'email',
  'urn:oid:1.3.6.1.4.1.5923.1.1.1.1': 'eduPersonAffiliation',
  'urn:oid:1.3.6.1.4.1.5923.1.1.1.6': 'eduPersonPrincipalName',
  'urn:oid:1.3.6.1.4.1.5923.1.1.1.7': 'eduPersonEntitlement',
  'urn:oid:1.3.6.1.4.1.5923.1.1.1.9': 'eduPersonScopedAffiliation',
  'urn:oid:1.3.6.1.4.1.5923.1.1.1.10': 'eduPersonTargetedID',
  'urn:oid:1.3.6.1.4.1.5923.1.1.1.13': 'eduPersonUniqueId',
  'urn:oid:1.3.6.1.4.1.5923.1.1.1.16': 'eduPersonOrcid',
  'urn:oid:1.3.6.1.4.1.5923.1.5.1.1': 'isMemberOf',
  'urn:oid:1.3.6.1.4.1.25178.1.2.9': 'schacHomeOrganization',
  'urn:oid:1.3.6.1.4.1.25178.1.2.10': 'schacHomeOrganizationType',
  'urn:oasis:names:tc:SAML:attribute:subject-id': 'subject_id',
  'urn:oasis:names:tc:SAML:attribute:pairwise-id': 'pairwise_id',
};

/** Claim URI families (ADFS, Entra ID) whose last path segment is the friendly name: `…/claims/emailaddress` → `emailaddress`. */
const CLAIM_URI_PREFIXES = ['http://schemas.xmlsoap.org/ws/2005/05/identity/claims/', 'http://schemas.xmlsoap.org/claims/', 'http://schemas.microsoft.com/'];

/** Keys the connector sets itself; an attribute cannot take them. */
export const RESERVED_KEYS = ['nameid', 'nameid_format'] as const;

/** Reads the attributes of a verified assertion (multi-valued kept as lists; nil values dropped). */
export function readAttributes(assertion: Element): SamlAttribute[] {
  const out: SamlAttribute[] = [];
  for (const statement of children(assertion, NS.saml, 'AttributeStatement')) {
    for (const a of children(statement, NS.saml, 'Attribute')) {
      const name = attr(a, 'Name');
      if (!name) continue;
      const values: string[] = [];
      for (const v of children(a, NS.saml, 'AttributeValue')) {
        if (v.getAttributeNS('http://www.w3.org/2001/XMLSchema-instance', 'nil') === 'true') continue;
        // A structured value (eduPersonTargetedID carries a NameID) contributes its text.
        const nested = Array.from({ length: v.childNodes.length }, (_, i) => v.childNodes.item(i)).find(isElement);
        const value = nested ? text(nested) : (v.textContent ?? '');
        if (value !== undefined) values.push(value);
      }
      const friendlyName = attr(a, 'FriendlyName');
      const existing = out.find((x) => x.name === name);
      if (existing) existing.values.push(...values);
      else out.push({ name, ...(friendlyName ? { friendlyName } : {}), values });
    }
  }
  return out;
}

/** The Subject's NameID of a verified assertion (undefined when there is none or it is encrypted). */
export function readNameId(assertion: Element): NameId | undefined {
  const subject = children(assertion, NS.saml, 'Subject')[0];
  const nameId = subject ? children(subject, NS.saml, 'NameID')[0] : undefined;
  const value = nameId?.textContent?.trim();
  if (!nameId || !value) return undefined;
  const pick = (k: string) => attr(nameId, k);
  return {
    value,
    ...(pick('Format') ? { format: pick('Format') } : {}),
    ...(pick('NameQualifier') ? { nameQualifier: pick('NameQualifier') } : {}),
    ...(pick('SPNameQualifier') ? { spNameQualifier: pick('SPNameQualifier') } : {}),
  };
}

export function hasEncryptedId(assertion: Element): boolean {
  return descendants(assertion, NS.saml, 'EncryptedID').length > 0;
}

/**
 * The attributes as templates see them (`user.*`): every attribute under its Name, and also under
 * its configured alias, its FriendlyName and its well-known short name, when that key is free.
 * Real Names win over aliases; the first attribute claiming an alias keeps it. One value is a
 * string, several a list. The NameID is `nameid` (value) and `nameid_format`.
 */
export function attributeMap(attrs: SamlAttribute[], nameId: NameId | undefined, aliases: Record<string, string> = {}): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  const reserved = new Set<string>(RESERVED_KEYS);
  const valueOf = (a: SamlAttribute) => (a.values.length === 1 ? a.values[0]! : [...a.values]);
  for (const a of attrs) if (!reserved.has(a.name) && a.values.length) out[a.name] = valueOf(a);
  const claim = (key: string, a: SamlAttribute) => {
    if (!key || reserved.has(key) || key in out || !a.values.length) return;
    out[key] = valueOf(a);
  };
  for (const [alias, name] of Object.entries(aliases)) {
    const a = attrs.find((x) => x.name === name);
    if (a) claim(alias, a);
  }
  for (const a of attrs) if (a.friendlyName) claim(a.friendlyName, a);
  for (const a of attrs) {
    const known = WELL_KNOWN_ATTRIBUTES[a.name];
    if (known) claim(known, a);
    const prefix = CLAIM_URI_PREFIXES.find((p) => a.name.startsWith(p));
    if (prefix) claim(a.name.slice(a.name.lastIndexOf('/') + 1), a);
  }
  if (nameId) {
    out.nameid = nameId.value;
    if (nameId.format) out.nameid_format = nameId.format;
  }
  // A plain object again (templates and JSON snapshots expect one).
  return { ...out };
}
