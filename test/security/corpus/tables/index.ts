import type { CorpusCase } from '../corpus-case.js';
import { ACCOUNT_CASES } from './account.cases.js';
import { ADMIN_CASES } from './admin.cases.js';
import { AUTHORIZE_CASES } from './authorize.cases.js';
import { COMPAT_CASES } from './compat.cases.js';
import { DEVICE_CASES } from './device.cases.js';
import { END_SESSION_CASES } from './end-session.cases.js';
import { INTROSPECT_CASES } from './introspect.cases.js';
import { REGISTRATION_CASES } from './registration.cases.js';
import { REVOKE_CASES } from './revoke.cases.js';
import { TOKEN_CASES } from './token.cases.js';
import { UPSTREAM_CAS_CASES } from './upstream-cas.cases.js';
import { UPSTREAM_OIDC_CASES } from './upstream-oidc.cases.js';
import { UPSTREAM_SAML_CASES } from './upstream-saml.cases.js';

/** Every case of the corpus, one table per endpoint family. */
export const CORPUS: CorpusCase[] = [
  ...AUTHORIZE_CASES,
  ...TOKEN_CASES,
  ...REGISTRATION_CASES,
  ...REVOKE_CASES,
  ...INTROSPECT_CASES,
  ...DEVICE_CASES,
  ...END_SESSION_CASES,
  ...COMPAT_CASES,
  ...ACCOUNT_CASES,
  ...ADMIN_CASES,
  ...UPSTREAM_OIDC_CASES,
  ...UPSTREAM_SAML_CASES,
  ...UPSTREAM_CAS_CASES,
];
