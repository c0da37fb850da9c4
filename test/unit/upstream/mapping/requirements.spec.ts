import { describe, expect, it } from '@jest/globals';
import { attributeRequirement } from '../../../../src/upstream/mapping/claims.config.js';
import { checkRequirement, describeRequirementFailure, firstFailedRequirement } from '../../../../src/upstream/mapping/requirements.js';
import { english } from '../../../support/i18n.js';

const attrs = { groups: ['member', 'staff'], affiliation: 'staff', single: ['only'], empty: '', none: [] as string[] };

describe('attribute requirements', () => {
  it.each([
    ['equals on a single value', { attribute: 'affiliation', equals: 'staff' }, 'ok'],
    ['equals is case-sensitive', { attribute: 'affiliation', equals: 'Staff' }, 'mismatch'],
    ['equals on a one-element list', { attribute: 'single', equals: 'only' }, 'ok'],
    ['equals on a multi-valued attribute fails', { attribute: 'groups', equals: 'staff' }, 'mismatch'],
    ['one_of on a single value', { attribute: 'affiliation', one_of: ['faculty', 'staff'] }, 'ok'],
    ['one_of on a list (any value)', { attribute: 'groups', one_of: ['admin', 'member'] }, 'ok'],
    ['one_of with no match', { attribute: 'groups', one_of: ['admin'] }, 'mismatch'],
    ['contains on a list', { attribute: 'groups', contains: 'staff' }, 'ok'],
    ['contains on a single value', { attribute: 'affiliation', contains: 'staff' }, 'ok'],
    ['contains is not a substring match', { attribute: 'affiliation', contains: 'sta' }, 'mismatch'],
    ['contains with no match', { attribute: 'groups', contains: 'student' }, 'mismatch'],
    ['missing attribute', { attribute: 'nope', contains: 'x' }, 'missing'],
    ['empty string counts as missing', { attribute: 'empty', equals: '' }, 'missing'],
    ['empty list counts as missing', { attribute: 'none', one_of: ['x'] }, 'missing'],
    ['prototype names are not attributes', { attribute: 'constructor', contains: 'x' }, 'missing'],
  ])('%s', (_name, req, expected) => {
    expect(checkRequirement(attributeRequirement.parse(req), attrs)).toBe(expected);
  });

  it('reports the first failing requirement with its index, attribute and rule', () => {
    const reqs = [
      { attribute: 'affiliation', equals: 'staff' },
      { attribute: 'groups', contains: 'admins' },
      { attribute: 'nope', equals: 'x' },
    ].map((r) => attributeRequirement.parse(r));
    expect(firstFailedRequirement(reqs, attrs)).toEqual({ kind: 'requirement', index: 1, attribute: 'groups', rule: 'contains', reason: 'mismatch' });
    expect(firstFailedRequirement(reqs.slice(0, 1), attrs)).toBeUndefined();
    expect(firstFailedRequirement([], attrs)).toBeUndefined();
  });

  it('tells the user the attribute and rule, never their values nor the expected value', () => {
    const msg = english(describeRequirementFailure({ kind: 'requirement', index: 0, attribute: 'groups', rule: 'contains', reason: 'mismatch' }));
    expect(msg).toContain('“groups”');
    expect(msg).toMatch(/must include a required value/);
    expect(msg).not.toMatch(/member|staff|admins/);
    expect(english(describeRequirementFailure({ kind: 'requirement', index: 0, attribute: 'eduPersonAffiliation', rule: 'one_of', reason: 'missing' }))).toMatch(/did not send the attribute “eduPersonAffiliation”/);
  });

  it('config: exactly one rule per requirement', () => {
    expect(attributeRequirement.safeParse({ attribute: 'a' }).success).toBe(false);
    expect(attributeRequirement.safeParse({ attribute: 'a', equals: 'x', contains: 'y' }).success).toBe(false);
    expect(attributeRequirement.safeParse({ attribute: 'a', one_of: [] }).success).toBe(false);
    expect(attributeRequirement.safeParse({ attribute: 'a', equals: 'x', value: 'y' }).success).toBe(false);
  });
});
