import { casKind } from './cas/cas.kind.js';
import { devKind } from './dev/dev.kind.js';
import { oauth2Kind } from './oauth2/oauth2.kind.js';
import { oidcKind } from './oidc/oidc.kind.js';
import { samlKind } from './saml/saml.kind.js';

/**
 * The one table of upstream kinds: `kind` → what its folder exports (connector-kind.ts). The
 * provider schema of the configuration is built from it (providers.schema.ts) and the connector
 * registry builds and runs every connector through it: a new kind is its folder plus one line here.
 */
export const CONNECTOR_KINDS = {
  dev: devKind,
  oidc: oidcKind,
  oauth2: oauth2Kind,
  saml: samlKind,
  cas: casKind,
};
