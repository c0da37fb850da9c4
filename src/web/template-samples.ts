import { msg } from './i18n/message.js';
import { brandIcon } from './brand-icons.js';
import { describeScopes } from './scope-descriptions.js';

/**
 * Every page Causeway renders, with sample data shaped like the controllers' (names, ids and
 * addresses are made up). `causeway templates check` renders each one in every language, so an
 * operator's template override is exercised on every page kind before people see it.
 */
export interface TemplateSample {
  /** A short name for reports: `consent (device)`. */
  name: string;
  template: string;
  vars: Record<string, unknown>;
}

const BASE = 'https://auth.example.org/';
const LOGIN = `${BASE}login/01J0SAMPLE0000000000000000`;
const CSRF = 'sample-csrf-token';
const NOW = Date.UTC(2026, 2, 14, 9, 30);
const client = {
  clientId: 'sample-client',
  name: 'Element',
  host: 'app.element.io',
  clientUri: 'https://app.element.io',
  tosUri: 'https://element.io/terms',
  policyUri: 'https://element.io/privacy',
};
const providers = [
  { id: 'campus', name: 'Campus login', icon: brandIcon('university') },
  { id: 'google', name: 'Google', icon: brandIcon('google') },
];
const common = { csrf: CSRF, cancel_action: `${LOGIN}/cancel` };
const account = {
  user_id: '@alice:example.org',
  display_name: 'Alice Example',
  csrf: CSRF,
  nav: { sessions: `${BASE}account/`, profile: `${BASE}account/?action=org.matrix.profile`, sign_out: `${BASE}oauth2/end-session` },
};
const device = {
  sessionId: '01J0SESSION000000000000000',
  kind: 'oauth',
  deviceId: 'ABCDEFGHIJ',
  clientName: 'Element',
  clientHost: 'app.element.io',
  createdAt: NOW - 86_400_000,
  lastActiveAt: NOW,
  current: true,
};

export const TEMPLATE_SAMPLES: readonly TemplateSample[] = [
  { name: 'home', template: 'home', vars: { account_url: `${BASE}account/`, health_url: `${BASE}health/ready` } },
  { name: 'home (signed in)', template: 'home', vars: { account_url: `${BASE}account/`, health_url: `${BASE}health/ready`, user_id: '@alice:example.org' } },
  { name: 'picker', template: 'picker', vars: { ...common, client, action: `${LOGIN}/provider`, providers } },
  { name: 'picker (sign-up)', template: 'picker', vars: { ...common, create: true, action: `${LOGIN}/provider`, providers } },
  {
    name: 'upstream continue',
    template: 'upstream-continue',
    vars: { ...common, provider: { name: 'Campus login' }, redirect_url: 'https://idp.example.org/login', others: providers.slice(1), switch_action: `${LOGIN}/provider` },
  },
  {
    name: 'upstream continue (form post)',
    template: 'upstream-continue',
    vars: { ...common, provider: { name: 'Campus login' }, form_post: { url: 'https://idp.example.org/sso', fields: [{ name: 'SAMLRequest', value: 'PHNhbWxwOkF1dGhuUmVxdWVzdC8+' }] }, others: [] },
  },
  {
    name: 'federation discovery',
    template: 'saml-discovery',
    vars: {
      provider_name: 'eduGAIN',
      action: `${BASE}upstream/edugain/saml/discovery`,
      session: 'sample-discovery-session-token00',
      query: 'techn',
      total: 42,
      items: [
        {
          entityId: 'https://idp.tu-example.de/idp/shibboleth',
          name: 'Technische Universität Example',
          organization: 'TU Example',
          logo: { url: 'https://www.tu-example.de/logo.png' },
          domains: ['tu-example.de'],
          href: `${BASE}upstream/edugain/saml/discovery/choose?s=sample&entityID=1`,
        },
        { entityId: 'https://login.example.edu/idp', name: 'Example Institute of Technology', domains: ['example.edu'], href: `${BASE}upstream/edugain/saml/discovery/choose?s=sample&entityID=2` },
      ],
      page: 2,
      pages: 3,
      previous_href: `${BASE}upstream/edugain/saml/discovery?s=sample&q=techn`,
      next_href: `${BASE}upstream/edugain/saml/discovery?s=sample&q=techn&page=3`,
      remembered: { entityId: 'https://idp.tu-example.de/idp/shibboleth', name: 'Technische Universität Example', domains: [], href: `${BASE}upstream/edugain/saml/discovery/choose?s=sample&entityID=1` },
    },
  },
  {
    name: 'federation discovery (no match)',
    template: 'saml-discovery',
    vars: { provider_name: 'DFN-AAI', action: `${BASE}upstream/dfn/saml/discovery`, session: 'sample', query: 'nowhere', total: 0, items: [], page: 1, pages: 1 },
  },
  { name: 'dev sign-in', template: 'dev-login', vars: { provider_name: 'Development sign-in', action: `${BASE}upstream/dev/callback`, state: 'sample-state', login_hint: '' } },
  {
    name: 'registration',
    template: 'register',
    vars: {
      ...common,
      provider_name: 'Campus login',
      server_name: 'example.org',
      value: 'Alice',
      error: msg('localpart.invalid_characters'),
      ask_displayname: true,
      displayname: 'Alice Example',
      action: `${LOGIN}/register`,
    },
  },
  { name: 'registration (fixed)', template: 'register', vars: { ...common, provider_name: 'Campus login', server_name: 'example.org', fixed: true, suggestion: 'alice', action: `${LOGIN}/register` } },
  { name: 'terms', template: 'terms', vars: { ...common, tos_uri: 'https://example.org/terms', action: `${LOGIN}/terms` } },
  { name: 'terms (changed)', template: 'terms', vars: { ...common, tos_uri: 'https://example.org/terms', changed: true, action: `${LOGIN}/terms` } },
  {
    name: 'consent',
    template: 'consent',
    vars: {
      csrf: CSRF,
      client,
      user_id: '@alice:example.org',
      scopes: describeScopes(['openid', 'urn:matrix:client:api:*', 'urn:matrix:client:device:ABCDEFGHIJ']),
      device_id: 'ABCDEFGHIJ',
      action: `${LOGIN}/consent`,
    },
  },
  {
    name: 'consent (device code)',
    template: 'consent',
    vars: {
      csrf: CSRF,
      device: true,
      client: { clientId: 'tv', name: 'Living-room TV' },
      user_id: '@alice:example.org',
      user_code: 'WDJB-MJHT',
      scopes: describeScopes(['urn:matrix:client:api:*', 'urn:matrix:client:device:TVDEVICE01']),
      device_id: 'TVDEVICE01',
      action: `${LOGIN}/consent`,
    },
  },
  {
    name: 'identity-provider-initiated sign-in',
    template: 'unsolicited-confirm',
    vars: { csrf: CSRF, provider_name: 'Campus login', user_id: '@alice:example.org', current_user_id: '@bob:example.org', action: `${LOGIN}/confirm` },
  },
  { name: 'legacy client confirmation', template: 'compat-confirm', vars: { csrf: CSRF, target: 'app.element.io', user_id: '@alice:example.org', action: `${LOGIN}/consent` } },
  { name: 'device code entry', template: 'device-code', vars: { csrf: CSRF, action: `${BASE}link`, code: '' } },
  { name: 'device code entry (error)', template: 'device-code', vars: { csrf: CSRF, action: `${BASE}link`, code: 'WDJB-XXXX', error: msg('device_code.invalid') } },
  {
    name: 'sign-out',
    template: 'logout',
    vars: { client, user_id: '@alice:example.org', csrf: CSRF, action: `${BASE}oauth2/end-session`, client_id: 'sample-client', state: 's', cancel_url: `${BASE}account/` },
  },
  { name: 'sign-out (not signed in)', template: 'logout', vars: { csrf: CSRF, action: `${BASE}oauth2/end-session` } },
  {
    name: 'account: devices',
    template: 'account',
    vars: {
      ...account,
      view: 'sessions',
      notice: msg('account.signed_out_notice'),
      devices: [device, { ...device, kind: 'compat', sessionId: 'x', deviceId: 'LEGACY0001', clientName: 'Matrix app', current: false, lastActiveAt: undefined }],
      end_action: `${BASE}account/sessions/end`,
    },
  },
  { name: 'account: device', template: 'account', vars: { ...account, view: 'device', device, delete_url: `${BASE}account/?action=org.matrix.device_delete&device_id=ABCDEFGHIJ` } },
  { name: 'account: sign out a device', template: 'account', vars: { ...account, view: 'device_delete', device, end_action: `${BASE}account/sessions/end` } },
  { name: 'account: profile', template: 'account', vars: { ...account, view: 'profile', email: 'alice@example.org', identities: [{ provider: 'Campus login', since: NOW }] } },
  { name: 'account: cross-signing reset', template: 'account', vars: { ...account, view: 'cross_signing_reset', reset_action: `${BASE}account/cross-signing-reset` } },
  { name: 'account: deactivate', template: 'account', vars: { ...account, view: 'deactivate', deactivate_action: `${BASE}account/deactivate` } },
  { name: 'account: notice', template: 'account', vars: { ...account, view: 'notice', notice: msg('error.device_not_found') } },
  {
    name: 'message',
    template: 'message',
    vars: { title: msg('done.reset_approved_title'), message: msg('done.reset_approved', { minutes: 10 }), link: { href: `${BASE}account/`, label: msg('common.back_to_account') } },
  },
  {
    name: 'error',
    template: 'error',
    vars: {
      title: msg('error.title.sign_in_failed'),
      message: msg('mapping.rule_contains', { attribute: 'eduPersonAffiliation' }),
      back_url: 'https://app.example.org/cb?error=access_denied',
      back_label: msg('common.return_to_app'),
      request_id: 'req-1',
    },
  },
  { name: 'error (not found)', template: 'error', vars: { title: msg('error.title.page_not_found'), message: msg('error.not_found'), request_id: 'req-2' } },
];
