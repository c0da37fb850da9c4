import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { ROOT, runCli } from '../../support/causeway.js';

/**
 * `causeway config schema`: the JSON Schema of gateway.yaml that editors validate against. Every
 * key carries a description (a key added without `.describe()` fails here), and the shipped
 * examples validate while a typo does not.
 */
type Schema = Record<string, unknown> & { properties?: Record<string, Schema>; description?: string };

/** Every object key of the schema (through arrays, unions and records) that has no description. */
function undescribed(s: Schema, path: string, out: string[] = []): string[] {
  for (const [key, child] of Object.entries(s.properties ?? {})) {
    if (!child.description) out.push(`${path}.${key}`);
    undescribed(child, `${path}.${key}`, out);
  }
  for (const k of ['items', 'additionalProperties'] as const) if (s[k] && typeof s[k] === 'object') undescribed(s[k] as Schema, `${path}[]`, out);
  for (const k of ['anyOf', 'oneOf', 'allOf'] as const) for (const [i, alt] of ((s[k] as Schema[] | undefined) ?? []).entries()) undescribed(alt, `${path}|${i}`, out);
  return out;
}

describe('causeway config schema', () => {
  let schema: Schema;

  it('prints a JSON Schema (draft 2020-12) of the whole config', async () => {
    const r = await runCli(['config', 'schema']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    schema = JSON.parse(r.stdout) as Schema;
    expect(schema).toMatchObject({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', title: expect.stringContaining('gateway.yaml') });
    expect(Object.keys(schema.properties!)).toEqual(expect.arrayContaining(['http', 'database', 'matrix', 'upstream', 'telemetry', 'audit']));
  });

  it('describes every key, section and provider kind', () => {
    expect(undescribed(schema, '')).toEqual([]);
    const providers = ((schema.properties!.upstream!.properties!.providers as Schema).items as Schema).oneOf ?? ((schema.properties!.upstream!.properties!.providers as Schema).items as Schema).anyOf;
    expect((providers as Schema[]).map((p) => p.description)).toEqual([expect.any(String), expect.any(String), expect.any(String), expect.any(String), expect.any(String)]);
    expect(schema.properties!.telemetry!.properties!.tracing!.properties!.sample_ratio).toMatchObject({ type: 'number', minimum: 0, maximum: 1, default: 1, description: expect.stringMatching(/traceparent/) });
  });

  it('the shipped examples validate; unknown keys and wrong types do not', () => {
    const validate = new Ajv2020({ strict: false, allErrors: true, validateFormats: false }).compile(schema);
    const examples = readdirSync(join(ROOT, 'config')).filter((f) => f.endsWith('.yaml'));
    expect(examples.length).toBeGreaterThan(5);
    for (const f of examples) {
      const ok = validate(parse(readFileSync(join(ROOT, 'config', f), 'utf8')));
      expect([f, ok ? [] : validate.errors]).toEqual([f, []]);
    }
    const base = parse(readFileSync(join(ROOT, 'config', 'gateway.example.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
    expect(validate({ ...base, http: { ...base.http, listn: '0.0.0.0:8080' } })).toBe(false);
    expect(validate.errors).toEqual(expect.arrayContaining([expect.objectContaining({ instancePath: '/http', keyword: 'additionalProperties', params: { additionalProperty: 'listn' } })]));
    expect(validate({ ...base, telemetry: { tracing: { exporter: 'zipkin' } } })).toBe(false);
  });
});
