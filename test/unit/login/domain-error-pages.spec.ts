import { describe, expect, it } from '@jest/globals';
import { AccountUnavailableError } from '../../../src/identity/account-unavailable.error.js';
import { SignInRefusedError } from '../../../src/identity/identity-errors.js';
import { OAuth2RefusalError } from '../../../src/oauth2/refusal.error.js';
import { pageErrorOf } from '../../../src/login/domain-error-pages.js';
import { msg } from '../../../src/web/i18n/message.js';
import { PageError } from '../../../src/web/page-error.js';

/** The pages identity's and oauth2's domain errors are shown as: exactly the PageErrors those modules threw before. */
describe('domain errors as pages', () => {
  const same = (got: PageError | undefined, want: PageError) => {
    expect(got).toBeInstanceOf(PageError);
    expect({ status: got!.status, title: got!.title, message: got!.userMessage, details: got!.details }).toEqual({ status: want.status, title: want.title, message: want.userMessage, details: want.details });
  };

  it('identity refusals keep their status, title, message (with the provider and rule) and log details', () => {
    same(
      pageErrorOf(new SignInRefusedError('registration_existing_only', { provider: 'Corp' }, { reason: 'registration_existing_only' })),
      new PageError(403, 'error.title.no_account', msg('error.registration_existing_only', { provider: 'Corp' }), { reason: 'registration_existing_only' }),
    );
    same(
      pageErrorOf(new SignInRefusedError('localpart_rule', { provider: 'Corp', rule: 'policy.localpart_deny' }, { reason: 'localpart_rule', rule: 'policy.localpart_deny' })),
      new PageError(403, 'error.title.sign_in_failed', msg('error.localpart_rule', { provider: 'Corp', rule: 'policy.localpart_deny' }), { reason: 'localpart_rule', rule: 'policy.localpart_deny' }),
    );
    same(pageErrorOf(new SignInRefusedError('account_not_found', {}, { reason: 'link_without_user' })), new PageError(500, 'error.title.something_went_wrong', 'error.account_not_found', { reason: 'link_without_user' }));
    same(pageErrorOf(new AccountUnavailableError('locked')), new PageError(403, 'error.title.account_locked', 'error.account_locked', { reason: 'account_locked' }));
    same(pageErrorOf(new AccountUnavailableError('deactivated')), new PageError(403, 'error.title.account_deactivated', 'error.account_deactivated', { reason: 'account_deactivated' }));
    same(pageErrorOf(new SignInRefusedError('sign_in_unavailable', {}, { reason: 'x' })), new PageError(503, 'error.title.temporarily_unavailable', 'error.sign_in_unavailable', { reason: 'x' }));
  });

  it('oauth2 refusals keep theirs', () => {
    same(pageErrorOf(new OAuth2RefusalError('unknown_client', {}, { reason: 'unknown_client' })), new PageError(400, 'error.title.unknown_application', 'error.unknown_client', { reason: 'unknown_client' }));
    same(pageErrorOf(new OAuth2RefusalError('client_gone', {}, { reason: 'unknown_client' })), new PageError(400, 'error.title.unknown_application', 'error.unknown_client_short', { reason: 'unknown_client' }));
    same(
      pageErrorOf(new OAuth2RefusalError('client_policy', { rule: 'policy.client_registration' }, { reason: 'client_policy' })),
      new PageError(403, 'error.title.application_not_allowed', msg('error.client_policy', { rule: 'policy.client_registration' }), { reason: 'client_policy' }),
    );
    same(
      pageErrorOf(new OAuth2RefusalError('homeserver_provisioning_refused', {}, { reason: 'homeserver_provisioning' })),
      new PageError(502, 'error.title.homeserver_not_answering', 'error.homeserver_provisioning_refused', { reason: 'homeserver_provisioning' }),
    );
    same(
      pageErrorOf(new OAuth2RefusalError('device_code_expired', {}, { reason: 'device_code_not_pending' })),
      new PageError(400, 'error.title.code_expired', 'error.device_code_expired', { reason: 'device_code_not_pending' }),
    );
  });

  it('passes a PageError through and leaves anything else alone', () => {
    const p = new PageError(404, 'error.title.page_not_found', 'error.not_found');
    expect(pageErrorOf(p)).toBe(p);
    expect(pageErrorOf(new Error('boom'))).toBeUndefined();
    expect(pageErrorOf(undefined)).toBeUndefined();
  });
});
