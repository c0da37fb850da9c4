import { z } from 'zod';
import { devProviderSchema } from './dev/dev.config.js';
import { oidcProviderSchema } from './oidc/oidc.config.js';
import { samlProviderSchema } from './saml/saml.config.js';
import { casProviderSchema } from './cas/cas.config.js';
import { oauth2ProviderSchema } from './oauth2/oauth2.config.js';

/** The kinds of upstream provider, discriminated by `kind`. */
export const providerSchema = z.discriminatedUnion('kind', [devProviderSchema, oidcProviderSchema, oauth2ProviderSchema, samlProviderSchema, casProviderSchema]);
export type ProviderConfig = z.infer<typeof providerSchema>;
export const PROVIDER_KINDS = ['dev', 'oidc', 'oauth2', 'saml', 'cas'] as const;
