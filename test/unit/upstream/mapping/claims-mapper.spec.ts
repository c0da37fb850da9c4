import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { attributeRequirement, claimsSection } from '../../../../src/upstream/mapping/claims.config.js';
import { ProviderMapping, type MappingResult } from '../../../../src/upstream/mapping/claims-mapper.js';
import { CONNECTOR_KINDS } from '../../../../src/upstream/connector-kinds.js';
import type { Assertion } from '../../../../src/upstream/connector.js';
import { english } from '../../../support/i18n.js';

const policy = { serverName: 'example.com', reserved: ['helpdesk'] };
const defaults = CONNECTOR_KINDS.oidc.defaultTemplates;

function mapping(claims: unknown = {}, requirements: unknown[] = [], on_conflict: 'fail' | 'link' = 'fail') {
  return new ProviderMapping({ id: 'corp', claims: claimsSection.parse(claims), attribute_requirements: z.array(attributeRequirement).parse(requirements), on_conflict }, defaults);
}
function assertion(attributes: Record<string, string | string[]>, subject = 'sub-123'): Assertion {
  return { providerId: 'corp', subject, attributes };
}
const alice = { sub: 'sub-123', preferred_username: 'alice', name: 'Alice Liddell', email: 'alice@example.org', email_verified: 'true', groups: ['member', 'staff'] };

function ok(r: MappingResult) {
  if (!r.ok) throw new Error(`expected success, got ${JSON.stringify(r.failure)}`);
  return r.identity;
}
function failure(r: MappingResult) {
  if (r.ok) throw new Error('expected a failure');
  return r;
}

describe('claims mapping', () => {
  it('maps with the OIDC defaults (preferred_username, name, verified email)', () => {
    expect(ok(mapping().map(assertion(alice), policy))).toEqual({
      providerId: 'corp',
      subject: 'sub-123',
      localpart: { action: 'force', mode: 'use', value: 'alice', sync: 'first_login' },
      displayname: { action: 'force', sync: 'first_login', value: 'Alice Liddell' },
      email: { action: 'force', sync: 'first_login', value: 'alice@example.org' },
      onConflict: 'fail',
    });
  });

  it('does not import an email the IdP did not verify (OIDC default)', () => {
    expect(ok(mapping().map(assertion({ ...alice, email_verified: 'false' }), policy)).email.value).toBeUndefined();
  });

  it('applies templates and sync policies', () => {
    const m = mapping({
      subject: '{{ user.email | downcase }}',
      localpart: { template: '{{ user.email | split: "@" | first | downcase }}' },
      displayname: { template: '{{ user.name | upcase }}', sync: 'always' },
      email: { template: '{{ user.email }}', sync: 'always' },
    });
    const id = ok(m.map(assertion({ ...alice, email: 'Alice@Example.org' }), policy));
    expect(id.subject).toBe('alice@example.org');
    expect(id.displayname).toEqual({ action: 'force', sync: 'always', value: 'ALICE LIDDELL' });
    expect(id.email.sync).toBe('always');
    expect(id.localpart.value).toBe('alice');
  });

  describe('localpart actions', () => {
    it('force: an upper-case value is refused with the reason', () => {
      const r = failure(mapping({ localpart: { template: '{{ user.name | split: " " | first }}' } }).map(assertion(alice), policy));
      expect(r.failure).toEqual({ kind: 'claim', claim: 'localpart', reason: 'invalid', localpartProblem: 'invalid_characters' });
      expect(english(r.userMessage)).toMatch(/usable username/);
      expect(english(r.userMessage)).not.toContain('Alice');
    });

    it('force: downcase makes it valid', () => {
      expect(ok(mapping({ localpart: { template: '{{ user.name | split: " " | first | downcase }}' } }).map(assertion(alice), policy)).localpart.value).toBe('alice');
    });

    it.each([
      ['missing', {}, { reason: 'missing' }],
      ['empty', { preferred_username: '' }, { reason: 'missing' }],
      ['reserved', { preferred_username: 'admin' }, { reason: 'invalid', localpartProblem: 'reserved' }],
      ['reserved by config', { preferred_username: 'helpdesk' }, { reason: 'invalid', localpartProblem: 'reserved' }],
      ['numeric', { preferred_username: '4711' }, { reason: 'invalid', localpartProblem: 'numeric' }],
      ['leading underscore', { preferred_username: '_irc_bridge' }, { reason: 'invalid', localpartProblem: 'leading_underscore' }],
      ['unicode', { preferred_username: 'jürgen' }, { reason: 'invalid', localpartProblem: 'invalid_characters' }],
      ['too long', { preferred_username: 'a'.repeat(250) }, { reason: 'invalid', localpartProblem: 'too_long' }],
      ['multi-valued (joined)', { preferred_username: ['a', 'b'] }, { reason: 'missing' }],
    ])('force: %s → refused', (_name, attrs, expected) => {
      const attributes = { sub: 'x', ...attrs } as Record<string, string | string[]>;
      if (_name === 'multi-valued (joined)') {
        // A list renders joined ("ab"): valid. Templates pick explicitly with | first.
        expect(ok(mapping().map(assertion(attributes), policy)).localpart.value).toBe('ab');
        return;
      }
      expect(failure(mapping().map(assertion(attributes), policy)).failure).toEqual({ kind: 'claim', claim: 'localpart', ...expected });
    });

    it('require: a valid value is to be confirmed; a missing one refuses', () => {
      expect(ok(mapping({ localpart: { action: 'require' } }).map(assertion(alice), policy)).localpart).toEqual({
        action: 'require',
        mode: 'confirm',
        value: 'alice',
        sync: 'first_login',
      });
      expect(failure(mapping({ localpart: { action: 'require' } }).map(assertion({ sub: 'x' }), policy)).failure).toMatchObject({ claim: 'localpart', reason: 'missing' });
    });

    it('suggest: the page is pre-filled with a valid value; an invalid one is dropped with its reason', () => {
      expect(ok(mapping({ localpart: { action: 'suggest' } }).map(assertion(alice), policy)).localpart).toEqual({
        action: 'suggest',
        mode: 'ask',
        value: 'alice',
        sync: 'first_login',
      });
      expect(ok(mapping({ localpart: { action: 'suggest' } }).map(assertion({ ...alice, preferred_username: 'Alice' }), policy)).localpart).toEqual({
        action: 'suggest',
        mode: 'ask',
        rejected: 'invalid_characters',
        sync: 'first_login',
      });
      expect(ok(mapping({ localpart: { action: 'suggest' } }).map(assertion({ sub: 'x' }), policy)).localpart).toEqual({ action: 'suggest', mode: 'ask', sync: 'first_login' });
    });

    it('ignore: the user picks, the template is not even rendered', () => {
      expect(ok(mapping({ localpart: { action: 'ignore', template: '{% for i in (1..100000000) %}x{% endfor %}' } }).map(assertion(alice), policy)).localpart).toEqual({
        action: 'ignore',
        mode: 'ask',
        sync: 'first_login',
      });
    });

    it('a template that blows its limits refuses force, degrades to ask for suggest', () => {
      const hostile = '{% for i in (1..100000000) %}x{% endfor %}';
      expect(failure(mapping({ localpart: { template: hostile } }).map(assertion(alice), policy)).failure).toEqual({ kind: 'claim', claim: 'localpart', reason: 'template_error' });
      expect(ok(mapping({ localpart: { action: 'suggest', template: hostile } }).map(assertion(alice), policy)).localpart.mode).toBe('ask');
    });
  });

  describe('displayname and email', () => {
    it('strips control and bidi characters and caps the display name at 256', () => {
      const id = ok(mapping().map(assertion({ ...alice, name: `Ali\u202Ece\u0000 ${'x'.repeat(300)}` }), policy));
      expect(id.displayname.value).toMatch(/^Alice x+$/);
      expect(Array.from(id.displayname.value!).length).toBe(256);
    });

    it('drops an implausible email unless required', () => {
      expect(ok(mapping({ email: { template: '{{ user.email }}' } }).map(assertion({ ...alice, email: 'Alice <alice@example.org>' }), policy)).email.value).toBeUndefined();
      expect(failure(mapping({ email: { template: '{{ user.email }}', action: 'require' } }).map(assertion({ ...alice, email: 'not an email' }), policy)).failure).toEqual({
        kind: 'claim',
        claim: 'email',
        reason: 'invalid',
      });
    });

    it('require refuses a missing value; ignore imports nothing', () => {
      expect(failure(mapping({ displayname: { action: 'require' } }).map(assertion({ sub: 'x', preferred_username: 'x' }), policy)).failure).toEqual({
        kind: 'claim',
        claim: 'displayname',
        reason: 'missing',
      });
      expect(ok(mapping({ email: { action: 'ignore' } }).map(assertion(alice), policy)).email).toEqual({ action: 'ignore', sync: 'first_login' });
    });
  });

  describe('subject', () => {
    it('defaults to the protocol subject', () => {
      expect(ok(mapping().map(assertion(alice, 'opaque-sub'), policy)).subject).toBe('opaque-sub');
    });
    it('an empty template result refuses the sign-in', () => {
      expect(failure(mapping({ subject: '{{ user.employeeNumber }}' }).map(assertion(alice), policy)).failure).toEqual({ kind: 'claim', claim: 'subject', reason: 'missing' });
    });
  });

  describe('requirements come first', () => {
    it('a failed requirement wins over everything else, and names attribute and rule only', () => {
      const m = mapping({}, [{ attribute: 'groups', contains: 'staff' }]);
      const r = failure(m.map(assertion({ ...alice, groups: ['student'], preferred_username: 'ADMIN' }), policy));
      expect(r.failure).toEqual({ kind: 'requirement', index: 0, attribute: 'groups', rule: 'contains', reason: 'mismatch' });
      expect(english(r.userMessage)).toContain('“groups”');
      expect(english(r.userMessage)).not.toMatch(/student|staff/);
    });

    it('passes when they hold', () => {
      expect(
        ok(
          mapping({}, [
            { attribute: 'groups', contains: 'staff' },
            { attribute: 'email_verified', equals: 'true' },
          ]).map(assertion(alice), policy),
        ).subject,
      ).toBe('sub-123');
    });
  });

  it('carries on_conflict', () => {
    expect(ok(mapping({}, [], 'link').map(assertion(alice), policy)).onConflict).toBe('link');
  });
});

describe('claims config', () => {
  it('refuses a localpart sync other than first_login', () => {
    const r = claimsSection.safeParse({ localpart: { sync: 'always' } });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.message).toMatch(/only first_login/);
  });

  it('defaults every claim', () => {
    expect(claimsSection.parse({})).toEqual({
      localpart: { action: 'force' },
      displayname: { action: 'force', sync: 'first_login' },
      email: { action: 'force', sync: 'first_login' },
      avatar: { sync: 'first_login', max_bytes: 1024 * 1024, timeout_ms: 5000 },
    });
  });

  it('refuses a template with a syntax error, at its path', () => {
    const r = claimsSection.safeParse({ displayname: { template: '{{ user.name | nosuch }}' } });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(['displayname', 'template']);
    expect(r.error!.issues[0]!.message).toMatch(/invalid template: undefined filter: nosuch/);
  });
});

describe('claims.avatar', () => {
  const photo = Buffer.alloc(30_000, 7).toString('base64');
  it('passes a base64 photo past the 4096-character limit of the other claims, up to max_bytes', () => {
    const m = mapping({ avatar: { template: '{{ user.jpegPhoto }}', max_bytes: 64 * 1024 }, displayname: { template: '{{ user.jpegPhoto }}' } });
    const id = ok(m.map(assertion({ ...alice, jpegPhoto: photo }), policy));
    expect(id.avatar).toEqual({ value: photo, sync: 'first_login', maxBytes: 64 * 1024, timeoutMs: 5000 });
    // The other claims keep their limits: the display name template sees no such value.
    expect(id.displayname.value).toBeUndefined();
  });
  it('a photo beyond max_bytes, a missing value, or no template: no avatar, and never a refused sign-in', () => {
    expect(ok(mapping({ avatar: { template: '{{ user.jpegPhoto }}', max_bytes: 4096 } }).map(assertion({ ...alice, jpegPhoto: photo }), policy)).avatar).toBeUndefined();
    expect(ok(mapping({ avatar: { template: '{{ user.picture }}' } }).map(assertion(alice), policy)).avatar).toBeUndefined();
    expect(ok(mapping().map(assertion({ ...alice, picture: 'https://example.org/a.png' }), policy)).avatar).toBeUndefined();
    expect(ok(mapping({ avatar: { template: '{{ user.picture }}', sync: 'always' } }).map(assertion({ ...alice, picture: 'https://example.org/a.png' }), policy)).avatar).toMatchObject({
      value: 'https://example.org/a.png',
      sync: 'always',
    });
  });
});
