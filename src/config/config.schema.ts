import { z } from 'zod';
import { httpSection } from './sections/http.config.js';
import { databaseSection } from './sections/database.config.js';
import { redisSection } from './sections/redis.config.js';
import { secretsSection } from './sections/secrets.config.js';
import { matrixSection } from './sections/matrix.config.js';
import { staticClient } from './sections/clients.config.js';
import { tokensSection } from './sections/tokens.config.js';
import { loginSection } from './sections/login.config.js';
import { policySection } from './sections/policy.config.js';
import { adminSection } from './sections/admin.config.js';
import { eventsSection } from './sections/events.config.js';
import { loggingSection } from './sections/logging.config.js';
import { compatSection } from './sections/compat.config.js';
import { sessionsSection } from './sections/sessions.config.js';
import { retentionSection } from './sections/retention.config.js';
import { auditSection } from './sections/audit.config.js';
import { telemetrySection } from './sections/telemetry.config.js';
import { brandingSection } from './sections/branding.config.js';
import { templatesSection } from './sections/templates.config.js';
import { SHIPPED_LANGUAGES } from './languages.js';

/** Shortest `matrix.secret` accepted outside dev_mode. */
export const MIN_MATRIX_SECRET_LENGTH = 32;

/**
 * What every upstream provider has, whatever its kind: what a module that does not know the kinds
 * may read (the discovery document reads `registration`, the admin API lists ids, kinds and names).
 * The kinds and their schemas belong to upstream/, which is above config/; the compiler checks that
 * every kind's schema gives this envelope (the constraint of `configSchemaWith`).
 */
export interface ProviderEnvelope {
  id: string;
  kind: string;
  /** The label of its button on the sign-in page. */
  name: string;
  registration: 'open' | 'existing_only' | 'disabled';
}

/**
 * The whole gateway.yaml, with `upstream.providers` validated by `providerSchema`. Unknown keys
 * anywhere are errors (they are usually typos). The file's schema is composed above config/, where
 * the provider kinds are known (upstream/gateway-config.schema.ts), and that is what the loader is
 * given; the rules spanning sections are `checkSections`, which the composed schema runs.
 */
export function configSchemaWith<P extends z.ZodType<ProviderEnvelope>>(providerSchema: P) {
  return z
    .object({
      dev_mode: z.boolean().default(false).describe('Enables the dev sign-in, generated signing keys, inline secrets and running without a homeserver, for trying Causeway. Never in production.'),
      replicas: z.number().int().min(1).default(1).describe('Number of replicas the deployment runs (the Helm chart sets it); more than 1 needs `redis`.'),
      http: httpSection,
      database: databaseSection.prefault({}),
      redis: redisSection.optional(),
      secrets: secretsSection.prefault({}),
      matrix: matrixSection,
      clients: z.array(staticClient).default([]).describe('Clients declared here (e.g. an admin tool, or Synapse introspecting as a client); others register themselves (MSC2966).'),
      tokens: tokensSection.prefault({}),
      login: loginSection.prefault({}),
      policy: policySection.prefault({}),
      admin: adminSection.prefault({}),
      events: eventsSection.prefault({}),
      logging: loggingSection.prefault({}),
      compat: compatSection.prefault({}),
      sessions: sessionsSection.prefault({}),
      retention: retentionSection.prefault({}),
      audit: auditSection.prefault({}),
      telemetry: telemetrySection.prefault({}),
      branding: brandingSection.prefault({}),
      templates: templatesSection.prefault({}),
      upstream: z
        .object({
          providers: z
            .array(providerSchema)
            .min(1, 'declare at least one provider')
            .describe('The identity providers people sign in with, in picker order unless `order` says otherwise; one entry per IdP, chosen by `kind`.'),
        })
        .strict()
        .describe('Upstream identity providers: OIDC, SAML 2.0, CAS (and the dev sign-in).'),
    })
    .strict();
}

/**
 * The rules that span sections other than `upstream` (those on providers are upstream's, where the
 * kinds are known). Run by the composed schema after its provider rules.
 */
export function checkSections(c: GatewayConfig, ctx: z.RefinementCtx): void {
  const ids = new Set<string>();
  c.clients.forEach((cl, i) => {
    if (ids.has(cl.client_id)) ctx.addIssue({ code: 'custom', path: ['clients', i, 'client_id'], message: `duplicate client_id "${cl.client_id}"` });
    ids.add(cl.client_id);
  });
  if (c.replicas > 1 && !c.redis) {
    ctx.addIssue({ code: 'custom', path: ['replicas'], message: 'more than one replica needs redis.url (login state and the event bus must be shared)' });
  }
  if (!c.dev_mode && c.secrets.keys.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['secrets', 'keys'], message: 'at least one signing key is required outside dev_mode' });
  }
  if (!c.dev_mode && !c.secrets.encryption_key) {
    ctx.addIssue({ code: 'custom', path: ['secrets', 'encryption_key'], message: 'required outside dev_mode (as encryption_key_file or encryption_key_env)' });
  }
  if (!c.dev_mode && c.matrix.api === 'none') {
    ctx.addIssue({ code: 'custom', path: ['matrix', 'api'], message: 'none (no homeserver) is only allowed with dev_mode: true' });
  }
  // The shared secret guards introspection (and /_synapse/mas/* on Synapse's side): no short ones (F7).
  if (!c.dev_mode && c.matrix.api !== 'none' && c.matrix.secret.length > 0 && c.matrix.secret.length < MIN_MATRIX_SECRET_LENGTH) {
    ctx.addIssue({ code: 'custom', path: ['matrix', 'secret'], message: `must be at least ${MIN_MATRIX_SECRET_LENGTH} characters outside dev_mode (e.g. openssl rand -base64 32)` });
  }
  if (!c.templates.translations_path && !SHIPPED_LANGUAGES.some((l) => l.tag === c.branding.default_language)) {
    ctx.addIssue({
      code: 'custom',
      path: ['branding', 'default_language'],
      message: `expected one of ${SHIPPED_LANGUAGES.map((l) => l.tag).join('|')} (or a catalog in templates.translations_path)`,
    });
  }
  if (!c.dev_mode && c.policy.allow_insecure_uris) {
    ctx.addIssue({ code: 'custom', path: ['policy', 'allow_insecure_uris'], message: 'only allowed with dev_mode: true' });
  }
}

/**
 * The validated gateway.yaml. Its providers are `P`: the envelope below upstream/, and upstream's
 * `ProviderConfig` (the union of the kinds) for the modules that read kind-specific keys.
 */
export type GatewayConfig<P extends ProviderEnvelope = ProviderEnvelope> = z.output<ReturnType<typeof configSchemaWith<z.ZodType<P>>>>;
