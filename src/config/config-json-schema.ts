import { z } from 'zod';

/**
 * The JSON Schema of gateway.yaml (draft 2020-12), from the zod schema that validates it: every
 * key with its `.describe()` text, for editors (`# yaml-language-server: $schema=…`) and for the
 * generated configuration reference. It describes what may be written (the input side: durations
 * as numbers or strings, secrets inline or as `_file`/`_env`); rules that span keys are checked by
 * `causeway config check`. `configSchema` is the file's schema as composed with the provider kinds
 * (upstream/gateway-config.schema.ts).
 */
export function configJsonSchema(configSchema: z.ZodType): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    $schema: schema.$schema,
    title: 'Causeway configuration (gateway.yaml)',
    description: 'The configuration of Causeway, the identity gateway for Matrix. Unknown keys are errors.',
    ...schema,
  };
}
