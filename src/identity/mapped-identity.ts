import type { ImportAction } from '../upstream/mapping/claims.config.js';

/**
 * An upstream identity after claims mapping and attribute requirements: what linking and
 * registration need. Produced by the claims mapper (src/upstream/mapping/); JSON-serialisable
 * (kept in the login machine between the callback and the registration form).
 */
export interface MappedAttribute {
  /** The rendered template, trimmed; undefined when the template gave nothing. */
  value?: string;
  action: ImportAction;
  sync: 'first_login' | 'always';
}

export interface MappedIdentity {
  providerId: string;
  /** The stable subject the link is keyed on. */
  subject: string;
  localpart: MappedAttribute;
  displayname: MappedAttribute;
  email: MappedAttribute;
}
