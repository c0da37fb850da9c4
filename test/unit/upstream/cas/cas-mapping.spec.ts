import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { CONNECTOR_KINDS } from '../../../../src/upstream/connector-kinds.js';
import { casProviderSchema, type CasProviderConfig } from '../../../../src/upstream/cas/cas.config.js';
import { parseValidationResponse } from '../../../../src/upstream/cas/cas-protocol.js';
import { ProviderMapping } from '../../../../src/upstream/mapping/claims-mapper.js';
import type { Assertion } from '../../../../src/upstream/connector.js';

/**
 * What mapping templates see of a CAS sign-in: the CAS user as `user.user`, released attributes
 * by name. Assertions are built the way CasConnector builds them, from the checked-in answers.
 */
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const policy = { serverName: 'example.org', reserved: [] };

function assertionFrom(file: string): Assertion {
  const r = parseValidationResponse(fixture(file));
  if (!r.ok) throw new Error('expected success');
  return { providerId: 'campus', subject: r.user, attributes: { ...r.attributes, user: r.user }, upstreamSid: 'ST-1' };
}

function exampleProvider(file: string): CasProviderConfig {
  const yaml = parse(readFileSync(new URL(`../../../../${file}`, import.meta.url), 'utf8')) as { upstream: { providers: unknown[] } };
  return casProviderSchema.parse(yaml.upstream.providers[0]);
}

const mapping = (p: CasProviderConfig) => new ProviderMapping(p, CONNECTOR_KINDS.cas.defaultTemplates);

describe('CAS assertions through claims mapping', () => {
  it('defaults: subject and localpart from the CAS user, display name and email from displayName/mail', () => {
    const p = casProviderSchema.parse({ id: 'campus', kind: 'cas', name: 'Campus', server_url: 'https://cas.example.edu/cas' });
    const r = mapping(p).map(assertionFrom('django-p3-success.xml'), policy);
    expect(r).toMatchObject({
      ok: true,
      identity: { subject: 'alice', localpart: { mode: 'use', value: 'alice' }, displayname: { value: 'Alice Liddell' }, email: { value: 'alice@example.org' } },
    });
  });

  it('the Apereo example: requirement on a multi-valued attribute, templates over displayName and mail', () => {
    const p = exampleProvider('config/cas-apereo.example.yaml');
    const ok = mapping(p).map(assertionFrom('django-cas2-success.xml'), policy);
    expect(ok).toMatchObject({ ok: true, identity: { subject: 'alice', displayname: { value: 'Alice Liddell', sync: 'always' }, email: { value: 'alice@example.org' } } });
    const guest = assertionFrom('django-p3-success.xml');
    guest.attributes.eduPersonAffiliation = ['affiliate'];
    expect(mapping(p).map(guest, policy)).toMatchObject({ ok: false, failure: { kind: 'requirement' } });
  });

  it('the CAS 2 example without attributes: only the CAS user, suggested as localpart', () => {
    const p = exampleProvider('config/cas2-no-attributes.example.yaml');
    const r = mapping(p).map(assertionFrom('apereo-cas2-no-attributes.xml'), policy);
    expect(r).toMatchObject({ ok: true, identity: { subject: 'student42', localpart: { mode: 'ask', value: 'student42' } } });
    if (!r.ok) throw new Error('unreachable');
    expect(r.identity.displayname.value).toBeUndefined();
    expect(r.identity.email.value).toBeUndefined();
  });
});
