import type { ConnectorKind } from '../connector-kind.js';
import { casProviderSchema } from './cas.config.js';
import { createCasConnector } from './cas.connector.js';

/** `kind: cas`: CAS 2.0/3.0 (its service URL and Single Logout endpoints are in cas.module.ts). */
export const casKind: ConnectorKind<typeof casProviderSchema> = {
  schema: casProviderSchema,
  create: createCasConnector,
  defaultTemplates: { localpart: '{{ user.user }}', displayname: '{{ user.displayName }}', email: '{{ user.mail }}' },
};
