import type { z } from 'zod';
import { checkSections, configSchemaWith, type GatewayConfig } from '../config/config.schema.js';
import { providerSchema, type ProviderConfig } from './providers.schema.js';

/**
 * The schema of the whole gateway.yaml: config/'s sections with the providers of every kind of
 * the connector table (providers.schema.ts), then the rules on providers, then those spanning the
 * other sections. It is composed here because config/ is below upstream/ and does not know the
 * kinds; the commands (main.ts, the doctor), the tests and the generators of the configuration
 * reference and the Helm values schema give it to the loader.
 */
export const gatewayConfigSchema = configSchemaWith(providerSchema).superRefine((c, ctx) => {
  checkProviders(c, ctx);
  checkSections(c, ctx);
});

/** The rules on providers that one provider's schema cannot check: ids across providers, dev_mode. */
function checkProviders(c: GatewayConfig<ProviderConfig>, ctx: z.RefinementCtx): void {
  const seen = new Map<string, number>();
  c.upstream.providers.forEach((p, i) => {
    if (seen.has(p.id)) {
      ctx.addIssue({ code: 'custom', path: ['upstream', 'providers', i, 'id'], message: `duplicate provider id "${p.id}" (also providers[${seen.get(p.id)}])` });
    }
    seen.set(p.id, i);
    if (p.kind === 'dev' && !c.dev_mode) {
      ctx.addIssue({ code: 'custom', path: ['upstream', 'providers', i, 'kind'], message: 'the dev sign-in is refused unless dev_mode: true' });
    }
    if (p.on_conflict !== 'fail' && p.claims.localpart.action !== 'force' && p.claims.localpart.action !== 'require') {
      ctx.addIssue({
        code: 'custom',
        path: ['upstream', 'providers', i, 'on_conflict'],
        message: `${p.on_conflict} needs claims.localpart.action force or require (a username the person picks never links to an existing account)`,
      });
    }
    if (!c.dev_mode && 'allow_insecure_http' in p && p.allow_insecure_http) {
      ctx.addIssue({ code: 'custom', path: ['upstream', 'providers', i, 'allow_insecure_http'], message: 'only allowed with dev_mode: true' });
    }
    // CAS logout requests are unsigned: anyone who can reach the URL could end sessions (F12).
    if (!c.dev_mode && p.kind === 'cas' && p.single_logout && p.slo_allowed_from.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['upstream', 'providers', i, 'slo_allowed_from'],
        message: "required with single_logout (CAS logout requests are unsigned): list the CAS servers' addresses, or set single_logout: false",
      });
    }
  });
}
