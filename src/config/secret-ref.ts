import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * Every secret may be given three ways: inline (`secret`), from a file (`secret_file`, read once at
 * start-up, surrounding whitespace stripped) or from an environment variable (`secret_env`).
 * `secretShape` adds the three keys (with their descriptions) to an object schema; `resolveSecret`
 * (called from the object's transform) checks that at most one is set and returns the value,
 * reporting problems on the key. Public values given the same three ways (a certificate) use
 * `publicValueShape` and `resolveSecret(…, { public: true })`: this file is the only reader of
 * `*_file` / `*_env` references.
 */
export function secretShape<N extends string>(name: N, description: string) {
  return referenceShape(
    name,
    `${description} Inline values are refused outside dev_mode: give \`${name}_file\` or \`${name}_env\` instead.`,
    `Path of a file holding \`${name}\` (read once at start-up; surrounding whitespace is stripped).`,
    `Name of an environment variable holding \`${name}\`.`,
  );
}

/** A public value (a PEM certificate) given inline, as `NAME_file` or as `NAME_env`: inline is fine outside dev_mode. */
export function publicValueShape<N extends string>(name: N, description: string, format = 'PEM') {
  return referenceShape(name, `${description} ${format} text.`, `Path of a ${format} file holding \`${name}\`.`, `Name of an environment variable holding \`${name}\` as ${format}.`);
}

function referenceShape<N extends string>(name: N, inline: string, file: string, env: string) {
  return {
    [name]: z.string().min(1).optional().describe(inline),
    [`${name}_file`]: z.string().min(1).optional().describe(file),
    [`${name}_env`]: z.string().min(1).optional().describe(env),
  } as { [K in N | `${N}_file` | `${N}_env`]: z.ZodOptional<z.ZodString> };
}

/**
 * Inline secrets (a shared secret or key pasted into the YAML) are accepted only with `dev_mode: true`.
 * The loader sets this around its synchronous parse; nested schemas cannot see the root otherwise.
 */
export const parseOptions = { devMode: false };

export interface ResolveOptions {
  /** Report a missing value; a string says what the value is for (appended to the message). */
  required?: boolean | string;
  /** Keep surrounding whitespace (PEM files keep their newlines). */
  raw?: boolean;
  /** Not a secret (a certificate): inline values are accepted outside dev_mode. */
  public?: boolean;
}

export function resolveSecret(obj: Record<string, unknown>, name: string, ctx: z.RefinementCtx, opts: ResolveOptions = {}): string | undefined {
  const given = referenceKeys(name).filter((k) => obj[k] !== undefined);
  if (given.length > 1) {
    ctx.addIssue({ code: 'custom', path: [given[1]!], message: `give only one of ${given.join(', ')}` });
    return undefined;
  }
  if (given.length === 0) {
    const why = typeof opts.required === 'string' ? `: ${opts.required}` : '';
    if (opts.required) ctx.addIssue({ code: 'custom', path: [name], message: `required (as ${name}, ${name}_file or ${name}_env)${why}` });
    return undefined;
  }
  const key = given[0]!;
  const ref = obj[key] as string;
  if (key === name) {
    if (!parseOptions.devMode && !opts.public) {
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

/** The keys a value may be given under: `NAME`, `NAME_file`, `NAME_env`. */
function referenceKeys(name: string): [string, string, string] {
  return [name, `${name}_file`, `${name}_env`];
}

/** Which of `NAME`, `NAME_file`, `NAME_env` gave the value (for reporting a problem with it on that key). */
export function givenKey(obj: Record<string, unknown>, name: string): string {
  return referenceKeys(name).find((k) => obj[k] !== undefined) ?? name;
}
