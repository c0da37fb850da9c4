import type { Assertion } from '../connector.js';
import { msg, type MessageKey, type Msg } from '../../web/i18n/message.js';
import { checkLocalpart, LOCALPART_MESSAGES, type LocalpartPolicyOptions, type LocalpartProblem } from '../../matrix/localpart-policy.js';
import type { AttributeRequirement, ClaimsConfig } from './claims.config.js';
import type { MappedAvatar, MappedIdentity, MappedLocalpart, MappedProfileValue, OnConflict } from './mapped-identity.js';
import { checkRequirement, describeRequirementFailure, firstFailedRequirement, type RequirementFailure } from './requirements.js';
import { compileTemplate, renderTemplate, type CompiledTemplate } from './template-engine.js';

/**
 * Claims mapping, the pure core: from a verified Assertion to what the login flow needs to find
 * or create the account. No I/O: the login module checks availability and conflicts.
 */

/** Per-kind default templates (connector registry), used where the provider's config gives none. */
export interface DefaultTemplates {
  localpart?: string;
  displayname?: string;
  email?: string;
}

/** The part of a provider's config the mapping reads. */
export interface MappingConfig {
  id: string;
  claims: ClaimsConfig;
  attribute_requirements: readonly AttributeRequirement[];
  on_conflict: OnConflict;
  /** Who is an admin at this IdP (provider `admin`). */
  admin?: AttributeRequirement;
}

export type ClaimName = 'subject' | 'localpart' | 'displayname' | 'email';

/** A claim the config needs that the upstream identity does not provide in a usable form. */
export interface ClaimFailure {
  kind: 'claim';
  claim: ClaimName;
  /** `missing`: empty; `invalid`: not a usable value (see localpartProblem); `template_error`: the template failed to render (limits). */
  reason: 'missing' | 'invalid' | 'template_error';
  localpartProblem?: LocalpartProblem;
}
export type MappingFailure = RequirementFailure | ClaimFailure;

export type MappingResult = { ok: true; identity: MappedIdentity } | { ok: false; failure: MappingFailure; /** Safe to show: names the attribute/claim and rule, no values. */ userMessage: Msg };

export const MAX_SUBJECT_LENGTH = 512;
export const MAX_DISPLAYNAME_LENGTH = 256;
export const MAX_EMAIL_LENGTH = 320;
const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+$/;
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g;

/** A provider's templates, parsed once. */
export class ProviderMapping {
  private readonly subject?: CompiledTemplate;
  private readonly localpart?: CompiledTemplate;
  private readonly displayname?: CompiledTemplate;
  private readonly email?: CompiledTemplate;
  private readonly avatar?: CompiledTemplate;

  constructor(
    readonly config: MappingConfig,
    defaults: DefaultTemplates = {},
  ) {
    const compile = (s: string | undefined) => (s === undefined ? undefined : compileTemplate(s));
    this.subject = compile(config.claims.subject);
    this.localpart = compile(config.claims.localpart.template ?? defaults.localpart);
    this.displayname = compile(config.claims.displayname.template ?? defaults.displayname);
    this.email = compile(config.claims.email.template ?? defaults.email);
    this.avatar = compile(config.claims.avatar.template);
  }

  map(assertion: Assertion, policy: LocalpartPolicyOptions): MappingResult {
    const attrs = assertion.attributes;
    const requirement = firstFailedRequirement(this.config.attribute_requirements, attrs);
    if (requirement) return fail(requirement);

    // Subject: the template's value, else the protocol subject.
    let subject = assertion.subject;
    if (this.subject) {
      const r = render(this.subject, attrs);
      if (!r.ok) return fail({ kind: 'claim', claim: 'subject', reason: 'template_error' });
      subject = r.value;
    }
    if (!subject) return fail({ kind: 'claim', claim: 'subject', reason: 'missing' });
    if (assertion.subjectScope !== undefined) subject = scopedSubject(assertion.subjectScope, subject);
    if (subject.length > MAX_SUBJECT_LENGTH) return fail({ kind: 'claim', claim: 'subject', reason: 'invalid' });

    const localpart = this.mapLocalpart(attrs, policy);
    if ('kind' in localpart) return fail(localpart);
    const displayname = this.mapProfile('displayname', this.displayname, attrs, cleanDisplayname);
    if ('kind' in displayname) return fail(displayname);
    const email = this.mapProfile('email', this.email, attrs, cleanEmail);
    if ('kind' in email) return fail(email);

    const avatar = this.mapAvatar(attrs);

    return {
      ok: true,
      identity: {
        providerId: this.config.id,
        subject,
        localpart,
        displayname,
        email,
        ...(avatar ? { avatar } : {}),
        onConflict: this.config.on_conflict,
        ...(this.config.admin ? { admin: checkRequirement(this.config.admin, attrs) === 'ok' } : {}),
      },
    };
  }

  private mapLocalpart(attrs: Readonly<Record<string, string | string[]>>, policy: LocalpartPolicyOptions): MappedLocalpart | ClaimFailure {
    const { action } = this.config.claims.localpart;
    const ask = (rejected?: LocalpartProblem): MappedLocalpart => ({ action, mode: 'ask', sync: 'first_login', ...(rejected ? { rejected } : {}) });
    if (action === 'ignore') return ask();
    const strict = action === 'force' || action === 'require';
    const r = this.localpart ? render(this.localpart, attrs) : { ok: true as const, value: '' };
    if (!r.ok) return strict ? { kind: 'claim', claim: 'localpart', reason: 'template_error' } : ask();
    if (!r.value) return strict ? { kind: 'claim', claim: 'localpart', reason: 'missing' } : ask();
    const check = checkLocalpart(r.value, policy);
    if (!check.ok) return strict ? { kind: 'claim', claim: 'localpart', reason: 'invalid', localpartProblem: check.problem } : ask(check.problem);
    return { action, mode: action === 'force' ? 'use' : action === 'require' ? 'confirm' : 'ask', value: r.value, sync: 'first_login' };
  }

  /** The avatar template's value (a URL or a base64 photo): never a reason to refuse a sign-in. */
  private mapAvatar(attrs: Readonly<Record<string, string | string[]>>): MappedAvatar | undefined {
    if (!this.avatar) return undefined;
    const { sync, max_bytes, timeout_ms } = this.config.claims.avatar;
    // Base64 grows 4/3; room for line breaks some IdPs fold it with.
    const room = Math.ceil((max_bytes * 4) / 3) + 4096;
    let value: string;
    try {
      value = renderTemplate(this.avatar, attrs, undefined, { maxValueLength: room, maxOutputLength: room });
    } catch {
      return undefined;
    }
    return value ? { value, sync, maxBytes: max_bytes, timeoutMs: timeout_ms } : undefined;
  }

  private mapProfile(
    claim: 'displayname' | 'email',
    template: CompiledTemplate | undefined,
    attrs: Readonly<Record<string, string | string[]>>,
    clean: (v: string) => string | undefined,
  ): MappedProfileValue | ClaimFailure {
    const { action, sync } = this.config.claims[claim];
    if (action === 'ignore' || !template) {
      if (action === 'require') return { kind: 'claim', claim, reason: 'missing' };
      return { action, sync };
    }
    const r = render(template, attrs);
    if (!r.ok) return action === 'require' ? { kind: 'claim', claim, reason: 'template_error' } : { action, sync };
    if (!r.value) return action === 'require' ? { kind: 'claim', claim, reason: 'missing' } : { action, sync };
    const value = clean(r.value);
    if (value === undefined) return action === 'require' ? { kind: 'claim', claim, reason: 'invalid' } : { action, sync };
    return { action, sync, value };
  }
}

function render(t: CompiledTemplate, attrs: Readonly<Record<string, string | string[]>>): { ok: true; value: string } | { ok: false } {
  try {
    return { ok: true, value: renderTemplate(t, attrs) };
  } catch {
    return { ok: false };
  }
}

/**
 * A subject within a namespace (a federation IdP's entity ID): `<scope>|<subject>`. Entity IDs
 * are URIs, in which a bare `|` cannot occur, so the split is unambiguous.
 */
export function scopedSubject(scope: string, subject: string): string {
  return `${scope}|${subject}`;
}

/** Control and bidi-override characters removed; at most 256 characters (Synapse's limit). */
export function cleanDisplayname(v: string): string | undefined {
  const s = Array.from(v.replace(CONTROL_CHARS, '').trim()).slice(0, MAX_DISPLAYNAME_LENGTH).join('');
  return s || undefined;
}

/** One plausible address (no display-name syntax, no spaces), at most 320 characters. */
export function cleanEmail(v: string): string | undefined {
  return v.length <= MAX_EMAIL_LENGTH && EMAIL.test(v) ? v : undefined;
}

function fail(failure: MappingFailure): MappingResult {
  return { ok: false, failure, userMessage: describeMappingFailure(failure) };
}

const MISSING_CLAIM: Record<ClaimName, MessageKey> = {
  subject: 'mapping.missing_subject',
  localpart: 'mapping.missing_localpart',
  displayname: 'mapping.missing_displayname',
  email: 'mapping.missing_email',
};

/** User-facing explanation of a mapping failure (no claim values). */
export function describeMappingFailure(f: MappingFailure): Msg {
  if (f.kind === 'requirement') return describeRequirementFailure(f);
  if (f.claim === 'localpart' && f.localpartProblem) return msg('mapping.missing_localpart_because', { problem: msg(LOCALPART_MESSAGES[f.localpartProblem]) });
  return msg(MISSING_CLAIM[f.claim]);
}
