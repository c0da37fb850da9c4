import type { ConnectorKind } from '../connector-kind.js';
import { devProviderSchema } from './dev.config.js';
import { createDevConnector } from './dev.connector.js';

/** `kind: dev`: the dev sign-in form (dev_mode only). */
export const devKind: ConnectorKind<typeof devProviderSchema> = {
  schema: devProviderSchema,
  create: createDevConnector,
  // The dev form's fields.
  defaultTemplates: { localpart: '{{ user.username }}', displayname: '{{ user.displayName }}', email: '{{ user.email }}' },
};
