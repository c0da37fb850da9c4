import type { PolicyConfig } from '../config/sections/policy.config.js';

/**
 * The operator's rules for new accounts (`policy.localpart_allow`, `policy.localpart_deny`,
 * `policy.email_domains`), on top of the Matrix grammar and the reserved names. Pure. Applied when
 * an account is created (registration page and forced localparts), never to accounts that exist.
 * A refusal names the rule (its `name`, else its key such as `policy.localpart_deny[1]`), never the
 * value, so the page can say which rule to ask about without echoing upstream data.
 */

interface CompiledRule {
  regex: RegExp;
  label: string;
}

export type RuleCheck = { ok: true } | { ok: false; rule: string };

export class RegistrationRules {
  private readonly allow: CompiledRule[];
  private readonly deny: CompiledRule[];
  private readonly domains: string[];

  constructor(policy: Pick<PolicyConfig, 'localpart_allow' | 'localpart_deny' | 'email_domains'>) {
    this.allow = policy.localpart_allow.map((r, i) => compile(r, `policy.localpart_allow[${i}]`));
    this.deny = policy.localpart_deny.map((r, i) => compile(r, `policy.localpart_deny[${i}]`));
    this.domains = policy.email_domains.map((d) => d.toLowerCase());
  }

  /** The localpart must match an allow rule (when there are any) and no deny rule. */
  checkLocalpart(localpart: string): RuleCheck {
    const denied = this.deny.find((r) => r.regex.test(localpart));
    if (denied) return { ok: false, rule: denied.label };
    if (this.allow.length && !this.allow.some((r) => r.regex.test(localpart))) {
      return { ok: false, rule: this.allow.length === 1 ? this.allow[0]!.label : 'policy.localpart_allow' };
    }
    return { ok: true };
  }

  /** With `email_domains`, the new account's email (required then) must be on one of them. */
  checkEmail(email: string | undefined): RuleCheck {
    if (!this.domains.length) return { ok: true };
    const at = email?.lastIndexOf('@') ?? -1;
    if (!email || at < 1) return { ok: false, rule: 'policy.email_domains' };
    const domain = email.slice(at + 1).toLowerCase();
    const allowed = this.domains.some((d) => (d.startsWith('*.') ? domain.endsWith(d.slice(1)) : domain === d));
    return allowed ? { ok: true } : { ok: false, rule: 'policy.email_domains' };
  }
}

function compile(rule: string | { regex: string; name: string }, key: string): CompiledRule {
  // `u`: the same flags the config loader checked the source with.
  return typeof rule === 'string' ? { regex: new RegExp(rule, 'u'), label: key } : { regex: new RegExp(rule.regex, 'u'), label: `${rule.name} (${key})` };
}
