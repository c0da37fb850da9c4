import type { ConnectorKind } from '../connector-kind.js';
import { oidcProviderSchema } from './oidc.config.js';
import { createOidcConnector } from './oidc.connector.js';

/** `kind: oidc`: OpenID Connect (discovery warmed up at start-up, `upstream:<id>` on /health/ready). */
export const oidcKind: ConnectorKind<typeof oidcProviderSchema> = {
  schema: oidcProviderSchema,
  create: createOidcConnector,
  defaultTemplates: {
    localpart: '{{ user.preferred_username }}',
    displayname: '{{ user.name }}',
    // Only an address the IdP says it verified.
    email: '{% if user.email_verified == "true" %}{{ user.email }}{% endif %}',
  },
};
