import { describe, expect, it } from '@jest/globals';
import { accountAction, DESTRUCTIVE } from '../../../src/account/account-actions.js';
import { describeScopes, deviceIdOf } from '../../../src/web/scope-descriptions.js';
import { english } from '../../support/i18n.js';

describe('account management actions (MSC4191) and their aliases', () => {
  it.each([
    ['org.matrix.profile', 'org.matrix.profile'],
    ['profile', 'org.matrix.profile'],
    ['org.matrix.devices_list', 'org.matrix.devices_list'],
    ['sessions_list', 'org.matrix.devices_list'],
    ['org.matrix.sessions_list', 'org.matrix.devices_list'],
    ['org.matrix.device_view', 'org.matrix.device_view'],
    ['session_view', 'org.matrix.device_view'],
    ['org.matrix.session_view', 'org.matrix.device_view'],
    ['org.matrix.device_delete', 'org.matrix.device_delete'],
    ['session_end', 'org.matrix.device_delete'],
    ['org.matrix.session_end', 'org.matrix.device_delete'],
    ['org.matrix.account_deactivate', 'org.matrix.account_deactivate'],
    ['org.matrix.cross_signing_reset', 'org.matrix.cross_signing_reset'],
    ['something_else', 'org.matrix.devices_list'],
    [undefined, 'org.matrix.devices_list'],
  ])('%j → %s', (raw, expected) => {
    expect(accountAction(raw)).toBe(expected);
  });

  it('marks device deletion, deactivation and the cross-signing reset as destructive', () => {
    expect([...DESTRUCTIVE].sort()).toEqual(['org.matrix.account_deactivate', 'org.matrix.cross_signing_reset', 'org.matrix.device_delete']);
  });
});

describe('scopes in words (consent page)', () => {
  it('describes stable and unstable Matrix scopes alike and leaves the device scope to its own line', () => {
    const stable = describeScopes(['openid', 'urn:matrix:client:api:*', 'urn:matrix:client:device:ABC']);
    const unstable = describeScopes(['openid', 'urn:matrix:org.matrix.msc2967.client:api:*', 'urn:matrix:org.matrix.msc2967.client:device:ABC']);
    expect(stable.map((s) => s.text)).toEqual(unstable.map((s) => s.text));
    expect(stable).toHaveLength(2);
    expect(deviceIdOf(['urn:matrix:org.matrix.msc2967.client:device:a+b/c='])).toBe('a+b/c=');
    expect(deviceIdOf(['openid'])).toBeUndefined();
  });

  it('names admin access plainly and shows unknown scopes verbatim', () => {
    expect(english(describeScopes(['urn:synapse:admin:*'])[0]!.text)).toContain('server-administrator');
    expect(english(describeScopes(['x-custom'])[0]!.text)).toContain('x-custom');
  });
});
