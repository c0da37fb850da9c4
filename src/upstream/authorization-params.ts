import { z } from 'zod';
import { compileTemplate, renderTemplateIn, TEMPLATE_LIMITS, templateProblem, type CompiledTemplate } from './mapping/template-engine.js';
import type { DownstreamRequest } from './connector.js';

/**
 * `authorization_params` of the OAuth-based kinds: extra query parameters of the authorization
 * request, each value a Liquid template over the downstream request (`request.login_hint`,
 * `request.prompt`, `request.client_id`, `request.acr_values`, `request.logged_out`). A plain value
 * (`hd: example.com`) is a template without tags. A value that renders empty is left out, so
 * `prompt: "{% if request.logged_out %}login{% endif %}"` sends `prompt=login` only after a sign-out.
 */
export function authorizationParamsSchema(reserved: ReadonlySet<string>) {
  return z
    .record(
      z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected a parameter name'),
      z
        .string()
        .max(TEMPLATE_LIMITS.maxSourceLength)
        .superRefine((source, ctx) => {
          const problem = templateProblem(source);
          if (problem) ctx.addIssue({ code: 'custom', message: `invalid template: ${problem}` });
        }),
    )
    .default({})
    .superRefine((params, ctx) => {
      for (const k of Object.keys(params)) {
        if (reserved.has(k)) ctx.addIssue({ code: 'custom', path: [k], message: 'set by Causeway itself; cannot be overridden' });
      }
    });
}

/** Parameters every OAuth-based connector sets itself. */
export const RESERVED_OAUTH_PARAMS: ReadonlySet<string> = new Set([
  'client_id',
  'redirect_uri',
  'response_type',
  'response_mode',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'request',
  'request_uri',
]);

const EMPTY_REQUEST: DownstreamRequest = { prompt: '', logged_out: false };
/** Longest parameter value sent upstream (the rendered template, trimmed). */
const MAX_VALUE_LENGTH = 1024;

/** A provider's templated parameters, parsed once. */
export class AuthorizationParams {
  private readonly templates: ReadonlyArray<[string, CompiledTemplate]>;

  constructor(params: Readonly<Record<string, string>>) {
    this.templates = Object.entries(params).map(([k, v]) => [k, compileTemplate(v)]);
  }

  /** The parameters for one sign-in; empty renders left out. Throws TemplateError (a configuration problem). */
  render(request: DownstreamRequest | undefined): Record<string, string> {
    const scope = { request: { ...EMPTY_REQUEST, ...request } };
    const out: Record<string, string> = {};
    for (const [name, template] of this.templates) {
      const value = renderTemplateIn(template, scope);
      if (value) out[name] = value.slice(0, MAX_VALUE_LENGTH);
    }
    return out;
  }
}
