import { isPyDict, parsePythonJson, pyRepr, pyTypeName } from './python-json.js';
import { SynapseError } from './synapse-error.js';

/**
 * Synapse's request-body handling for /_synapse/mas/* (synapse/http/servlet.py
 * `parse_and_validate_json_object_from_request` + a pydantic v2 `ParseModel`: strict types, unknown
 * fields ignored, frozen). Reproduced rule for rule because Causeway's adapter is tested against it.
 */

export type FieldType = 'str' | 'bool' | 'str_list' | 'str_set';
export interface FieldSpec {
  type: FieldType;
  /** `X | None`: null accepted. */
  nullable?: boolean;
  /** Present ⇒ the field is optional with this default. */
  default?: unknown;
}
export interface ModelSpec {
  name: string;
  fields: Record<string, FieldSpec>;
  /** A `model_validator(mode="before")`: returns a message to raise as ValueError, or undefined. */
  before?: (values: Record<string, unknown>) => string | undefined;
}

interface PydanticError {
  type: string;
  loc: (string | number)[];
  msg: string;
  input: unknown;
}

const TYPE_ERRORS: Record<FieldType, [string, string]> = {
  str: ['string_type', 'Input should be a valid string'],
  bool: ['bool_type', 'Input should be a valid boolean'],
  str_list: ['list_type', 'Input should be a valid list'],
  str_set: ['set_type', 'Input should be a valid set'],
};

function checkField(name: string, spec: FieldSpec, value: unknown, errors: PydanticError[]): unknown {
  if (value === null && spec.nullable) return null;
  const typeError = () => {
    const [type, msg] = TYPE_ERRORS[spec.type];
    errors.push({ type, loc: [name], msg, input: value });
    return undefined;
  };
  switch (spec.type) {
    case 'str':
      return typeof value === 'string' ? value : typeError();
    case 'bool':
      return typeof value === 'boolean' ? value : typeError();
    case 'str_list':
    case 'str_set': {
      // Strict mode still accepts a JSON array for list and set fields (Synapse's own tests send lists).
      if (!Array.isArray(value)) return typeError();
      const before = errors.length;
      value.forEach((item, i) => {
        if (typeof item !== 'string') errors.push({ type: 'string_type', loc: [name, i], msg: 'Input should be a valid string', input: item });
      });
      if (errors.length > before) return undefined;
      return spec.type === 'str_set' ? [...new Set(value as string[])] : [...(value as string[])];
    }
  }
}

function formatErrors(model: string, errors: PydanticError[]): string {
  const lines = [`${errors.length} validation error${errors.length === 1 ? '' : 's'} for ${model}`];
  for (const e of errors) {
    if (e.loc.length) lines.push(e.loc.join('.'));
    lines.push(`  ${e.msg} [type=${e.type}, input_value=${pyRepr(e.input)}, input_type=${pyTypeName(e.input)}]`);
    lines.push(`    For further information visit https://errors.pydantic.dev/2.11/v/${e.type}`);
  }
  return lines.join('\n');
}

/** `model_type.model_validate(content)` with Synapse's errcode choice. */
export function validateModel<T>(spec: ModelSpec, content: Record<string, unknown>): T {
  const fail = (errors: PydanticError[]): never => {
    let errcode = 'M_BAD_JSON';
    if (errors.length === 1) {
      if (errors[0]!.type === 'missing') errcode = 'M_MISSING_PARAM';
      else if (errors[0]!.type === 'value_error') errcode = 'M_INVALID_PARAM';
    }
    throw new SynapseError(400, formatErrors(spec.name, errors), errcode);
  };
  // A "before" model validator runs first; its ValueError is the only error reported.
  const message = spec.before?.(content);
  if (message !== undefined) fail([{ type: 'value_error', loc: [], msg: `Value error, ${message}`, input: content }]);

  const errors: PydanticError[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(spec.fields)) {
    if (!(name in content)) {
      if ('default' in field) out[name] = field.default;
      else errors.push({ type: 'missing', loc: [name], msg: 'Field required', input: content });
      continue;
    }
    out[name] = checkField(name, field, content[name], errors);
  }
  if (errors.length) fail(errors);
  return out as T;
}

/** `parse_json_object_from_request(request, allow_empty_body=False)`. */
export function parseJsonObject(raw: Buffer): Record<string, unknown> {
  let content: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    content = parsePythonJson(text);
  } catch {
    throw new SynapseError(400, 'Content not JSON.', 'M_NOT_JSON');
  }
  if (!isPyDict(content)) throw new SynapseError(400, 'Content must be a JSON object.', 'M_BAD_JSON');
  return content;
}

/** `parse_json_object_from_request(request, allow_empty_body=True)`: empty body ⇒ {}. */
export function parseJsonObjectOrEmpty(raw: Buffer): Record<string, unknown> {
  return raw.length === 0 ? {} : parseJsonObject(raw);
}
