import type { ConnectorKind } from '../connector-kind.js';
import { oauth2ProviderSchema } from './oauth2.config.js';
import { createOAuth2Connector } from './oauth2.connector.js';

/** `kind: oauth2`: plain OAuth 2.0 with a user API (GitHub and the like). */
export const oauth2Kind: ConnectorKind<typeof oauth2ProviderSchema> = {
  schema: oauth2ProviderSchema,
  create: createOAuth2Connector,
  // APIs differ: every claim template should be set in the provider's config (the examples do).
  defaultTemplates: { localpart: '{{ user.login }}', displayname: '{{ user.name }}' },
};
