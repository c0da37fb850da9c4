import { UpstreamError, type Assertion } from './connector.js';
import { msg } from '../web/i18n/message.js';

/**
 * What any connector's Assertion must look like before the login uses it, whatever the protocol
 * (issue 13 corpus): the subject and upstream session id are stored as they are (upstream links,
 * upstream sessions; both 512-character columns) and attribute values reach templates, display
 * names and emails. A control character there is never a real identity: a NUL byte in an OIDC
 * `sub` or `sid` (JSON can carry one, XML cannot) was a 500 on PostgreSQL once it reached the
 * database. Refused as a malformed answer (400), before anything is written. Pure.
 */
export const MAX_STORED_ID = 512;
/** Identifiers: no C0 control, no DEL. */
const CONTROL = /[\u0000-\u001F\u007F]/;
/** Attribute values may be multi-line (addresses): TAB, LF and CR stay allowed. */
const CONTROL_IN_VALUE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/** Why this assertion must not be used (for the log), or undefined. */
export function assertionProblem(a: Assertion): string | undefined {
  if (typeof a.subject !== 'string' || a.subject.length === 0 || a.subject.length > MAX_STORED_ID) return 'subject missing or too long';
  if (CONTROL.test(a.subject)) return 'control character in the subject';
  if (a.upstreamSid !== undefined && (typeof a.upstreamSid !== 'string' || a.upstreamSid.length > MAX_STORED_ID || CONTROL.test(a.upstreamSid))) return 'unusable upstream session id';
  for (const [name, value] of Object.entries(a.attributes)) {
    if (CONTROL.test(name)) return 'control character in an attribute name';
    for (const v of Array.isArray(value) ? value : [value]) {
      if (typeof v === 'string' && CONTROL_IN_VALUE.test(v)) return `control character in attribute ${name.slice(0, 64)}`;
    }
  }
  return undefined;
}

/** Throws a malformed-answer UpstreamError when `assertionProblem` finds one. */
export function checkAssertion(a: Assertion): Assertion {
  const problem = assertionProblem(a);
  if (problem) throw new UpstreamError('malformed', msg('upstream.malformed'), { problem });
  return a;
}
