import { describe, expect, it } from '@jest/globals';
import { signInOutcome, type LoginView } from '../../../src/login/sign-in-outcome.js';
import type { LoginContext } from '../../../src/login/login.machine.js';

const base: LoginContext = {
  loginId: 'L1',
  target: { kind: 'authorization', request: { clientId: 'app', redirectUri: 'https://app/cb', responseMode: 'query', scope: [], codeChallenge: 'x', prompt: [] } },
  providerIds: ['corp', 'dev'],
  prompt: [],
  ttlMs: 1000,
  expiresAt: 2000,
};
/** A page failure's texts do not matter here. */
const M = { key: 'x' } as never;
const view = (value: unknown, ctx: Partial<LoginContext> = {}, status = 'active'): LoginView => ({ status, value, context: { ...base, ...ctx } });
const waiting = view({ awaitingCallback: 'waiting' }, { providerId: 'corp' });

describe('signInOutcome: which step ends a sign-in attempt, and how', () => {
  it('success: the step that started the browser session, with user, subject and client', () => {
    const after = view({ consenting: 'asking' }, { providerId: 'corp', user: { id: 'U1', localpart: 'alice' }, browserSession: { id: 'B', authenticatedAt: 1 }, newBrowserSession: true, upstreamSubject: 'alice@corp' });
    expect(signInOutcome(waiting, after)).toEqual({ provider: 'corp', outcome: 'success', loginId: 'L1', userId: 'U1', subject: 'alice@corp', clientId: 'app' });
  });

  it('a later step of the same login (consent given) is not a second sign-in', () => {
    const asking = view({ consenting: 'asking' }, { providerId: 'corp', newBrowserSession: true, browserSession: { id: 'B', authenticatedAt: 1 } });
    expect(signInOutcome(asking, view('completed', { providerId: 'corp', newBrowserSession: true }, 'done'))).toBeUndefined();
    expect(signInOutcome(asking, view('failed', { providerId: 'corp', newBrowserSession: true, failure: { kind: 'oauth', code: 'access_denied', reason: 'cancelled' } }, 'done'))).toBeUndefined();
  });

  it('failure with the reason code, before any account (requirement failed)', () => {
    const after = view('failed', { providerId: 'corp', upstreamSubject: 'bob', failure: { kind: 'page', status: 403, title: M, message: M, reason: 'requirement_failed' } }, 'done');
    expect(signInOutcome(waiting, after)).toEqual({ provider: 'corp', outcome: 'failure', reason: 'requirement_failed', loginId: 'L1', subject: 'bob', clientId: 'app' });
  });

  it('a failure to reach the IdP at all (a new login whose first step failed)', () => {
    const after = view('failed', { providerId: 'corp', failure: { kind: 'page', status: 503, title: M, message: M, reason: 'upstream_unavailable' } }, 'done');
    expect(signInOutcome(undefined, after)).toMatchObject({ outcome: 'failure', reason: 'upstream_unavailable' });
  });

  it('cancelled at the IdP’s continue page, and expired while the person was away', () => {
    expect(signInOutcome(waiting, view('failed', { providerId: 'corp', failure: { kind: 'oauth', code: 'access_denied', reason: 'cancelled' } }, 'done'))).toMatchObject({ outcome: 'cancelled', reason: 'cancelled' });
    expect(signInOutcome(waiting, view('expired', { providerId: 'corp' }, 'done'))).toMatchObject({ outcome: 'expired', reason: 'expired' });
  });

  it('no attempt: no provider chosen, a reused browser session, an already finished login, or a step that only moved on', () => {
    expect(signInOutcome(undefined, view('failed', { failure: { kind: 'oauth', code: 'login_required', reason: 'login_required' } }, 'done'))).toBeUndefined();
    const reused = { providerId: 'corp', user: { id: 'U1', localpart: 'a' }, browserSession: { id: 'B', authenticatedAt: 1 } };
    expect(signInOutcome(undefined, view('failed', { ...reused, failure: { kind: 'oauth', code: 'access_denied', reason: 'cancelled' } }, 'done'))).toBeUndefined();
    expect(signInOutcome(view('failed', { providerId: 'corp' }, 'done'), view('failed', { providerId: 'corp' }, 'done'))).toBeUndefined();
    expect(signInOutcome(undefined, waiting)).toBeUndefined();
  });

  it('the client of each kind of login', () => {
    const ok = { providerId: 'corp', newBrowserSession: true, browserSession: { id: 'B', authenticatedAt: 1 } };
    expect(signInOutcome(undefined, view('completed', { ...ok, target: { kind: 'compat_sso', redirectUrl: 'https://x' } }, 'done'))?.clientId).toBe('compat');
    expect(signInOutcome(undefined, view('completed', { ...ok, target: { kind: 'device', device: { userCode: 'U', clientId: 'tv', scope: [] } } }, 'done'))?.clientId).toBe('tv');
    expect(signInOutcome(undefined, view('completed', { ...ok, target: { kind: 'account', returnTo: '/account/' } }, 'done'))).not.toHaveProperty('clientId');
  });
});
