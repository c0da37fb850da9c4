import { SignInRefusedError, type SignInRefusal } from '../identity/identity-errors.js';
import { OAuth2RefusalError, type OAuth2Refusal } from '../oauth2/refusal.error.js';
import { msg, type MessageKey } from './i18n/message.js';
import { PageError } from './page-error.js';

/** How a refusal reads to the person: the status, the page title and the message. */
type Page = readonly [status: number, title: MessageKey, message: MessageKey];

const SIGN_IN: Record<SignInRefusal, Page> = {
  registration_disabled: [403, 'error.title.no_account', 'error.registration_disabled'],
  registration_existing_only: [403, 'error.title.no_account', 'error.registration_existing_only'],
  forced_localpart_missing: [403, 'error.title.sign_in_failed', 'error.forced_localpart_missing'],
  forced_localpart_invalid: [403, 'error.title.sign_in_failed', 'error.forced_localpart_invalid'],
  localpart_rule: [403, 'error.title.sign_in_failed', 'error.localpart_rule'],
  email_domain_rule: [403, 'error.title.sign_in_failed', 'error.email_domain_rule'],
  account_not_found: [500, 'error.title.something_went_wrong', 'error.account_not_found'],
  account_locked: [403, 'error.title.account_locked', 'error.account_locked'],
  account_deactivated: [403, 'error.title.account_deactivated', 'error.account_deactivated'],
  account_exists: [409, 'error.title.account_exists', 'error.account_exists'],
  link_confirmation_mismatch: [403, 'error.title.not_same_account', 'error.link_confirmation_mismatch'],
  method_not_addable: [403, 'error.title.not_allowed', 'error.method_not_addable'],
  link_session_gone: [403, 'error.title.signed_out', 'error.link_session_gone'],
  identity_linked_elsewhere: [409, 'error.title.linked_elsewhere', 'error.identity_linked_elsewhere'],
  homeserver_unreachable: [503, 'error.title.temporarily_unavailable', 'error.homeserver_unreachable'],
  sign_in_unavailable: [503, 'error.title.temporarily_unavailable', 'error.sign_in_unavailable'],
};

const OAUTH2: Record<OAuth2Refusal, Page> = {
  client_id_repeated: [400, 'error.title.invalid_request', 'error.client_id_repeated'],
  client_id_missing: [400, 'error.title.invalid_request', 'error.client_id_missing'],
  unknown_client: [400, 'error.title.unknown_application', 'error.unknown_client'],
  client_gone: [400, 'error.title.unknown_application', 'error.unknown_client_short'],
  client_policy: [403, 'error.title.application_not_allowed', 'error.client_policy'],
  redirect_uri_repeated: [400, 'error.title.invalid_request', 'error.redirect_uri_repeated'],
  redirect_uri_missing: [400, 'error.title.invalid_request', 'error.redirect_uri_missing'],
  redirect_uri_mismatch: [400, 'error.title.invalid_redirect', 'error.redirect_uri_mismatch'],
  admin_scope_refused: [403, 'error.title.not_allowed', 'error.admin_scope_refused'],
  device_code_expired: [400, 'error.title.code_expired', 'error.device_code_expired'],
  homeserver_provisioning_transient: [503, 'error.title.homeserver_not_answering', 'error.homeserver_provisioning_transient'],
  homeserver_provisioning_refused: [502, 'error.title.homeserver_not_answering', 'error.homeserver_provisioning_refused'],
};

function page([status, title, message]: Page, params: Record<string, string>, details: PageError['details']): PageError {
  return new PageError(status, title, Object.keys(params).length ? msg(message, params) : message, details);
}

/**
 * The page a domain error (identity's and oauth2's refusals) is shown as; a PageError as it is;
 * undefined for anything else. The HTTP error filter and the login steps call it.
 */
export function pageErrorOf(err: unknown): PageError | undefined {
  if (err instanceof PageError) return err;
  if (err instanceof SignInRefusedError) return page(SIGN_IN[err.refusal], err.params, err.details);
  if (err instanceof OAuth2RefusalError) return page(OAUTH2[err.refusal], err.params, err.details);
  return undefined;
}
