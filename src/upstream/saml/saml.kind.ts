import type { ConnectorKind } from '../connector-kind.js';
import type { DefaultTemplates } from '../mapping/claims-mapper.js';
import { FederationSource } from './federation/federation-source.js';
import { samlProviderSchema } from './saml.config.js';
import { createSamlConnector, SamlConnector } from './saml.connector.js';

/**
 * Claims defaults of a SAML federation provider (eduPerson, as eduGAIN IdPs release it to
 * research-and-scholarship services): the person's name from displayName or cn, mail, and a
 * localpart suggested from eduPersonPrincipalName. The subject is the connector's
 * (federationSubject: pairwise-id, subject-id, eduPersonTargetedID, eduPersonPrincipalName).
 */
export const FEDERATION_DEFAULT_TEMPLATES: DefaultTemplates = {
  localpart: '{% if user.eduPersonPrincipalName %}{{ user.eduPersonPrincipalName | localpart_from_email }}{% else %}{{ user.uid }}{% endif %}',
  displayname: '{% if user.displayName %}{{ user.displayName }}{% else %}{{ user.cn }}{% endif %}',
  email: '{{ user.mail }}',
};

/**
 * `kind: saml`: SAML 2.0 Web Browser SSO. Each connector loads its IdP metadata in `start()` (before
 * the server listens) and refreshes it on its schedule; /health/ready shows it as
 * `saml_metadata:<id>`, and `causeway_saml_metadata_age_seconds` tells its age.
 */
export const samlKind: ConnectorKind<typeof samlProviderSchema> = {
  schema: samlProviderSchema,
  create: createSamlConnector,
  defaultTemplates: { localpart: '{{ user.uid }}', displayname: '{{ user.displayName }}', email: '{{ user.mail }}' },
  defaultTemplatesFor: (provider) => (provider.federation ? FEDERATION_DEFAULT_TEMPLATES : undefined),
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
    const federations = saml.filter((c) => c.metadata instanceof FederationSource);
    if (federations.length === 0) return;
    metrics.scrapeGauge('causeway_saml_federation_idps', 'IdPs a SAML federation provider offers (after entity_filter), from the last good aggregate', ['provider'], (g) => {
      g.reset();
      for (const c of federations) g.set({ provider: c.provider.id }, (c.metadata as FederationSource).entityCount());
    });
    metrics.scrapeGauge('causeway_saml_federation_refresh_ok', 'Whether the last refresh of a SAML federation aggregate succeeded (0: it failed or was refused; the last good copy is in use)', ['provider'], (g) => {
      g.reset();
      for (const c of federations) g.set({ provider: c.provider.id }, (c.metadata as FederationSource).error() ? 0 : 1);
    });
  },
};
