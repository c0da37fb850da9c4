/**
 * JSON as Python's `json` module sees it. The difference that matters here: `300.0` is a float,
 * not an int, so pydantic's StrictInt refuses it. JSON.parse loses that distinction, so numbers
 * written with a fraction or exponent are wrapped in PyFloat (V8's JSON.parse source access).
 */
export class PyFloat {
  constructor(readonly value: number) {}
  toJSON() {
    return this.value;
  }
}

type Reviver = (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown;

const reviver: Reviver = (_key, value, context) => {
  if (typeof value === 'number' && context?.source !== undefined && /[.eE]/.test(context.source)) return new PyFloat(value);
  return value;
};

/** Parses like Synapse's json_decoder (UTF-8 text; NaN/Infinity refused, as JSON.parse does). Throws on invalid JSON. */
export function parsePythonJson(text: string): unknown {
  return JSON.parse(text, reviver as Parameters<typeof JSON.parse>[1]);
}

/** Python's `int` type (bool is a subclass of int in Python, but JSON booleans never reach here as ints). */
export const isPyInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
export const isPyDict = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof PyFloat);

/** Python truthiness of a decoded JSON value (authlib-era code reads `if not x.get("active")`). */
export function pyTruthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (v instanceof PyFloat) return v.value !== 0;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** Python repr of a JSON value, for pydantic-style error texts. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v instanceof PyFloat) return Number.isInteger(v.value) ? `${v.value}.0` : String(v.value);
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  return `{${Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`)
    .join(', ')}}`;
}

export function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof PyFloat) return 'float';
  if (typeof v === 'number') return 'int';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  return 'dict';
}
