import { describe, expect, it } from '@jest/globals';
import { generateSynapseToken } from '../../../src/crypto/synapse-token-format.js';
import { sha256Hex } from '../../../src/crypto/token-format.js';
import { emptyWrites, SYNAPSE_REMOVED, type CausewaySession } from '../../../src/migration/import/causeway-state.js';
import { emptyCounts } from '../../../src/migration/import/import-counts.js';
import { planUser, skipReason, type ExistingUserState, type PlanContext } from '../../../src/migration/import/import-plan.js';
import type { SynapseAccessToken, SynapseUser, SynapseUserDetails } from '../../../src/migration/synapse-db/synapse-rows.js';

/** The import's decisions, without a database. */
const NOW = 1_800_000_000_000;
let seq = 0;
function ctx(): PlanContext {
  return { now: NOW, serverName: 'example.test', providerOf: new Map([['oidc-corp', 'corp']]), counts: emptyCounts(), newId: () => `ID${String(seq++).padStart(24, '0')}` };
}

function user(over: Partial<SynapseUser> = {}): SynapseUser {
  return {
    name: '@alice:example.test',
    hasPassword: false,
    creationTs: 1_700_000_000,
    admin: false,
    isGuest: false,
    appserviceId: null,
    userType: null,
    deactivated: false,
    shadowBanned: false,
    locked: false,
    suspended: false,
    displayname: 'Alice',
    ...over,
  };
}

const token = (id: number, deviceId: string | null, over: Partial<SynapseAccessToken> = {}): SynapseAccessToken => ({
  id,
  userId: '@alice:example.test',
  deviceId,
  token: generateSynapseToken('synapse_access', 'alice', 'abcdefghijklmnopqrs' + String.fromCharCode(65 + (id % 26))),
  validUntilMs: null,
  puppet: false,
  lastValidated: null,
  refreshToken: null,
  refreshExpiryTs: null,
  refreshSuperseded: false,
  ...over,
});

function details(over: Partial<SynapseUserDetails> = {}): SynapseUserDetails {
  return { externalIds: [], threepids: [], devices: [], tokens: [], ...over };
}

const session = (over: Partial<CausewaySession>): CausewaySession => ({
  id: 'S1',
  userId: 'U1',
  kind: 'compat',
  deviceId: 'D1',
  imported: true,
  finishedAt: null,
  finishReason: null,
  humanName: null,
  synapseAdmin: false,
  ...over,
});

const existing = (sessions: CausewaySession[], over: Partial<ExistingUserState> = {}): ExistingUserState => ({
  user: { id: 'U1', localpart: 'alice', lockedAt: null, deactivatedAt: null, canRequestAdmin: false, displayName: 'Alice', email: null, importedAt: NOW - 1000 },
  emails: [],
  sessions,
  tokens: [],
  ...over,
});

describe('import plan', () => {
  it('leaves out guests, appservice users and users of another server', () => {
    expect(skipReason(user({ isGuest: true }), 'example.test')).toBe('guest');
    expect(skipReason(user({ appserviceId: 'irc' }), 'example.test')).toBe('appservice');
    expect(skipReason(user({ name: '@alice:elsewhere.test' }), 'example.test')).toBe('other_server');
    expect(skipReason(user(), 'example.test')).toBeUndefined();
  });

  it('keeps the access token of a superseded pair without its refresh token, and skips puppets, deviceless, expired and foreign tokens', () => {
    const c = ctx();
    const w = emptyWrites();
    const superseded = token(1, 'D1', { refreshToken: generateSynapseToken('synapse_refresh', 'alice', 'abcdefghijklmnopqrst'), refreshSuperseded: true, validUntilMs: NOW + 60_000 });
    const live = token(2, 'D1', { refreshToken: generateSynapseToken('synapse_refresh', 'alice', 'bbcdefghijklmnopqrst'), validUntilMs: NOW + 60_000 });
    const d = details({
      devices: [{ userId: '@alice:example.test', deviceId: 'D1', displayName: 'Phone', hidden: false }],
      tokens: [superseded, live, token(3, null, { puppet: true }), token(4, null), token(5, 'D1', { validUntilMs: NOW - 1 }), token(6, 'D1', { token: 'not-a-synapse-token' }), token(7, 'GONE')],
    });
    planUser(c, w, user(), d, undefined, new Map(), 'digest');
    expect(w.newSessions).toHaveLength(1);
    expect(w.newTokens.map((t) => [t.accessHash, t.refreshHash])).toEqual([
      [sha256Hex(superseded.token), null],
      [sha256Hex(live.token), sha256Hex(live.refreshToken!)],
    ]);
    expect(c.counts.tokens).toMatchObject({ imported: 2, refreshable: 1, refreshSuperseded: 1, puppet: 1, deviceless: 1, expired: 1, unrecognised: 1, orphan: 1 });
  });

  it('never takes a device id Causeway uses itself, and ends imported sessions whose device Synapse deleted', () => {
    const c = ctx();
    const w = emptyWrites();
    const d = details({
      devices: [
        { userId: '@alice:example.test', deviceId: 'OAUTHDEV', displayName: null, hidden: false },
        { userId: '@alice:example.test', deviceId: 'SIGNEDOUT', displayName: null, hidden: false },
        { userId: '@alice:example.test', deviceId: 'BACKAGAIN', displayName: null, hidden: false },
      ],
    });
    planUser(
      c,
      w,
      user(),
      d,
      existing([
        session({ id: 'S-OAUTH', kind: 'oauth2', imported: false, deviceId: 'OAUTHDEV' }),
        session({ id: 'S-OUT', deviceId: 'SIGNEDOUT', finishedAt: NOW - 5, finishReason: 'revoked' }),
        session({ id: 'S-BACK', deviceId: 'BACKAGAIN', finishedAt: NOW - 5, finishReason: SYNAPSE_REMOVED }),
        session({ id: 'S-GONE', deviceId: 'DELETEDINSYNAPSE' }),
      ]),
      new Map(),
      'digest',
    );
    // A device Causeway signed out stays signed out; one the import itself ended comes back.
    expect(w.newSessions.map((s) => s.deviceId)).toEqual(['BACKAGAIN']);
    expect(c.counts.devices.known).toBe(2);
    expect(w.endSessions).toEqual([{ id: 'S-GONE', reason: SYNAPSE_REMOVED }]);
  });

  it('a user deactivated in Synapse since the last run: deactivated, imported sessions ended, nothing imported', () => {
    const c = ctx();
    const w = emptyWrites();
    planUser(
      c,
      w,
      user({ deactivated: true }),
      details({ devices: [{ userId: '@alice:example.test', deviceId: 'D1', displayName: null, hidden: false }], tokens: [token(1, 'D1')] }),
      existing([session({ id: 'S1', deviceId: 'D1' })]),
      new Map(),
      'digest',
    );
    expect(w.userUpdates).toEqual([expect.objectContaining({ id: 'U1', deactivatedAt: NOW })]);
    expect(w.endSessions).toEqual([{ id: 'S1', reason: 'synapse_deactivated' }]);
    expect(w.newTokens).toEqual([]);
  });

  it('an external id already linked to another account is reported, not moved; unmapped providers are counted', () => {
    const c = ctx();
    const w = emptyWrites();
    planUser(
      c,
      w,
      user(),
      details({
        externalIds: [
          { userId: '@alice:example.test', authProvider: 'oidc-corp', externalId: 'sub-1' },
          { userId: '@alice:example.test', authProvider: 'oidc-old', externalId: 'x' },
        ],
      }),
      undefined,
      new Map([['corp\0sub-1', 'SOMEONE-ELSE']]),
      'digest',
    );
    expect(w.newLinks).toEqual([]);
    expect(c.counts.links).toMatchObject({ conflicts: 1, unmapped: { 'oidc-old': 1 } });
  });

  it('a Synapse admin may request admin, and the sessions imported for him keep it', () => {
    const c = ctx();
    const w = emptyWrites();
    planUser(c, w, user({ admin: true }), details({ devices: [{ userId: '@alice:example.test', deviceId: 'D1', displayName: null, hidden: false }] }), undefined, new Map(), 'digest');
    expect(w.newUsers[0]).toMatchObject({ canRequestAdmin: true });
    expect(w.newSessions[0]).toMatchObject({ synapseAdmin: true });
  });
});
