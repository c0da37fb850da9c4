import type { ConnectorKind } from '../connector-kind.js';
import { samlProviderSchema } from './saml.config.js';
import { createSamlConnector, SamlConnector } from './saml.connector.js';

/**
 * `kind: saml`: SAML 2.0 Web Browser SSO. Each connector loads its IdP metadata in `start()` (before
 * the server listens) and refreshes it on its schedule; /health/ready shows it as
 * `saml_metadata:<id>`, and `causeway_saml_metadata_age_seconds` tells its age.
 */
export const samlKind: ConnectorKind<typeof samlProviderSchema> = {
  schema: samlProviderSchema,
  create: createSamlConnector,
  defaultTemplates: { localpart: '{{ user.uid }}', displayname: '{{ user.displayName }}', email: '{{ user.mail }}' },
  healthComponent: (providerId) => `saml_metadata:${providerId}`,
  metrics(connectors, metrics) {
    const saml = connectors.filter((c): c is SamlConnector => c instanceof SamlConnector);
    metrics.scrapeGauge('causeway_saml_metadata_age_seconds', 'Age of the IdP metadata each SAML provider uses (fetched or read; inline metadata is not listed)', ['provider'], (g) => {
      g.reset();
      for (const c of saml) {
        const age = c.metadata.ageSeconds();
        if (age !== undefined) g.set({ provider: c.provider.id }, age);
      }
    });
  },
};
