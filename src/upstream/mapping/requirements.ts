import type { AttributeRequirement } from './claims.config.js';
import { msg, type MessageKey, type Msg } from '../../web/i18n/message.js';

export type RequirementRule = 'equals' | 'one_of' | 'contains';

/** Which requirement failed and how; names the attribute and rule, never the user's values. */
export interface RequirementFailure {
  kind: 'requirement';
  /** Position in `attribute_requirements`. */
  index: number;
  attribute: string;
  rule: RequirementRule;
  /** `missing`: the IdP sent no value for the attribute; `mismatch`: it did, and the rule does not hold. */
  reason: 'missing' | 'mismatch';
}

export function ruleOf(req: AttributeRequirement): RequirementRule {
  return req.equals !== undefined ? 'equals' : req.one_of !== undefined ? 'one_of' : 'contains';
}

/** Values of an attribute as a list (single-valued ones become one-element lists; empty strings count as absent). */
export function valuesOf(attributes: Readonly<Record<string, string | string[]>>, name: string): string[] {
  if (!Object.hasOwn(attributes, name)) return [];
  const v = attributes[name];
  const list = Array.isArray(v) ? v : [v];
  return list.filter((x): x is string => typeof x === 'string' && x !== '');
}

/** Checks one requirement. */
export function checkRequirement(req: AttributeRequirement, attributes: Readonly<Record<string, string | string[]>>): 'ok' | 'missing' | 'mismatch' {
  const values = valuesOf(attributes, req.attribute);
  if (values.length === 0) return 'missing';
  if (req.equals !== undefined) return values.length === 1 && values[0] === req.equals ? 'ok' : 'mismatch';
  if (req.one_of !== undefined) return values.some((v) => req.one_of!.includes(v)) ? 'ok' : 'mismatch';
  return values.includes(req.contains!) ? 'ok' : 'mismatch';
}

/** The first requirement that fails (in config order), or undefined when all hold. */
export function firstFailedRequirement(requirements: readonly AttributeRequirement[], attributes: Readonly<Record<string, string | string[]>>): RequirementFailure | undefined {
  for (const [index, req] of requirements.entries()) {
    const result = checkRequirement(req, attributes);
    if (result !== 'ok') return { kind: 'requirement', index, attribute: req.attribute, rule: ruleOf(req), reason: result };
  }
  return undefined;
}

const RULE_TEXT: Record<RequirementRule, MessageKey> = {
  equals: 'mapping.rule_equals',
  one_of: 'mapping.rule_one_of',
  contains: 'mapping.rule_contains',
};

/** What the user is told: the attribute and the kind of rule, not their values nor the expected ones. */
export function describeRequirementFailure(f: RequirementFailure): Msg {
  return msg(f.reason === 'missing' ? 'mapping.attribute_missing' : RULE_TEXT[f.rule], { attribute: f.attribute });
}
