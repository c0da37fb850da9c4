import { describe, expect, it } from '@jest/globals';
import { policySection } from '../../../src/config/sections/policy.config.js';
import { RegistrationRules } from '../../../src/identity/registration-rules.js';

const rules = (p: Record<string, unknown>) => new RegistrationRules(policySection.parse(p));

describe('registration rules (policy.localpart_allow / localpart_deny / email_domains)', () => {
  it('passes everything when no rule is set', () => {
    expect(rules({}).checkLocalpart('anyone')).toEqual({ ok: true });
    expect(rules({}).checkEmail(undefined)).toEqual({ ok: true });
  });

  it('names the deny rule that matched (its key, or its name with the key)', () => {
    const r = rules({ localpart_deny: ['^test', { regex: 'admin', name: 'no admin look-alikes' }] });
    expect(r.checkLocalpart('tester')).toEqual({ ok: false, rule: 'policy.localpart_deny[0]' });
    expect(r.checkLocalpart('sysadmin2')).toEqual({ ok: false, rule: 'no admin look-alikes (policy.localpart_deny[1])' });
    expect(r.checkLocalpart('alice')).toEqual({ ok: true });
  });

  it('needs one allow rule to match; deny wins over allow', () => {
    const r = rules({ localpart_allow: ['^[a-z]+\\.[a-z]+$', '^svc-'], localpart_deny: ['^svc-old'] });
    expect(r.checkLocalpart('jane.doe')).toEqual({ ok: true });
    expect(r.checkLocalpart('svc-build')).toEqual({ ok: true });
    expect(r.checkLocalpart('jane')).toEqual({ ok: false, rule: 'policy.localpart_allow' });
    expect(r.checkLocalpart('svc-old1')).toEqual({ ok: false, rule: 'policy.localpart_deny[0]' });
    expect(rules({ localpart_allow: ['^x'] }).checkLocalpart('y')).toEqual({ ok: false, rule: 'policy.localpart_allow[0]' });
  });

  it('accepts an email on an allowed domain (exact, or a subdomain with *.), case-insensitively; refuses a missing one', () => {
    const r = rules({ email_domains: ['example.org', '*.corp.example'] });
    expect(r.checkEmail('a@Example.ORG')).toEqual({ ok: true });
    expect(r.checkEmail('a@eu.corp.example')).toEqual({ ok: true });
    expect(r.checkEmail('a@corp.example')).toEqual({ ok: false, rule: 'policy.email_domains' });
    expect(r.checkEmail('a@example.org.evil')).toEqual({ ok: false, rule: 'policy.email_domains' });
    expect(r.checkEmail(undefined)).toEqual({ ok: false, rule: 'policy.email_domains' });
  });

  it('refuses an invalid regular expression when the config loads, naming the key', () => {
    const r = policySection.safeParse({ localpart_deny: ['('] });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(['localpart_deny', 0]);
    expect(r.error!.issues[0]!.message).toMatch(/invalid regular expression/);
  });
});
