import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * Every secret may be given three ways: inline (`secret`), from a file (`secret_file`, read once at
 * start-up, surrounding whitespace stripped) or from an environment variable (`secret_env`).
 * `secretShape` adds the three keys (with their descriptions) to an object schema; `resolveSecret` (called from the object's
 * transform) checks that at most one is set and returns the value, reporting problems on the key.
 */
export function secretShape<N extends string>(name: N, description: string) {
  return {
    [name]: z
      .string()
      .min(1)
      .optional()
      .describe(`${description} Inline values are refused outside dev_mode: give \`${name}_file\` or \`${name}_env\` instead.`),
    [`${name}_file`]: z.string().min(1).optional().describe(`Path of a file holding \`${name}\` (read once at start-up; surrounding whitespace is stripped).`),
    [`${name}_env`]: z.string().min(1).optional().describe(`Name of an environment variable holding \`${name}\`.`),
  } as { [K in N | `${N}_file` | `${N}_env`]: z.ZodOptional<z.ZodString> };
}

/**
 * Inline secrets (a shared secret or key pasted into the YAML) are accepted only with `dev_mode: true`.
 * The loader sets this around its synchronous parse; nested schemas cannot see the root otherwise.
 */
export const parseOptions = { devMode: false };

export interface ResolveOptions {
  required?: boolean;
  /** Keep surrounding whitespace (PEM files keep their newlines). */
  raw?: boolean;
}

export function resolveSecret(
  obj: Record<string, unknown>,
  name: string,
  ctx: z.RefinementCtx,
  opts: ResolveOptions = {},
): string | undefined {
  const given = [name, `${name}_file`, `${name}_env`].filter((k) => obj[k] !== undefined);
  if (given.length > 1) {
    ctx.addIssue({ code: 'custom', path: [given[1]!], message: `give only one of ${given.join(', ')}` });
    return undefined;
  }
  if (given.length === 0) {
    if (opts.required) ctx.addIssue({ code: 'custom', path: [name], message: `required (as ${name}, ${name}_file or ${name}_env)` });
    return undefined;
  }
  const key = given[0]!;
  const ref = obj[key] as string;
  if (key === name) {
    if (!parseOptions.devMode) {
      ctx.addIssue({ code: 'custom', path: [name], message: `inline secrets are refused outside dev_mode; use ${name}_file or ${name}_env` });
      return undefined;
    }
    return ref;
  }
  if (key.endsWith('_env')) {
    const v = process.env[ref];
    if (v === undefined || v === '') {
      ctx.addIssue({ code: 'custom', path: [key], message: `environment variable ${ref} is not set` });
      return undefined;
    }
    return opts.raw ? v : v.trim();
  }
  try {
    const v = readFileSync(ref, 'utf8');
    if (!v.trim()) {
      ctx.addIssue({ code: 'custom', path: [key], message: `file ${ref} is empty` });
      return undefined;
    }
    return opts.raw ? v : v.trim();
  } catch (e) {
    ctx.addIssue({ code: 'custom', path: [key], message: `cannot read ${ref}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
    return undefined;
  }
}

/** Reads a non-secret file referenced by the config (certificates, metadata), reporting on its key. */
export function readConfigFile(path: string, key: string, ctx: z.RefinementCtx): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    ctx.addIssue({ code: 'custom', path: [key], message: `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
    return undefined;
  }
}
