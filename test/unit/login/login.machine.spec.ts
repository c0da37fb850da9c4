import { afterEach, describe, expect, it } from '@jest/globals';
import { createActor as createXstateActor, fromPromise, initialTransition, SimulatedClock, transition, waitFor, type SnapshotFrom } from 'xstate';
import {
  loginMachine,
  statePath,
  type LoginEvent,
  type LoginInput,
  type LoginTarget,
  type BeginUpstreamInput,
  type BeginUpstreamOutput,
  type LinkIdentityOutput,
  type CompleteUpstreamInput,
  type RegisterAccountInput,
  type RegisterAccountOutput,
  type MapIdentityInput,
  type StartSessionInput,
  type TermsInput,
  type TermsOutput,
  type CheckConsentInput,
  type CompleteLoginInput,
  type ConfirmLinkInput,
  type AttachIdentityInput,
} from '../../../src/login/login.machine.js';
import type { AuthorizationRequest } from '../../../src/oauth2/authorize/authorization-request.js';
import type { Assertion } from '../../../src/upstream/connector.js';
import type { MappedIdentity } from '../../../src/upstream/mapping/mapped-identity.js';
import { PageError } from '../../../src/web/page-error.js';
import { UpstreamError } from '../../../src/upstream/connector.js';
import { msg } from '../../../src/web/i18n/message.js';

const request = (over: Partial<AuthorizationRequest> = {}): AuthorizationRequest => ({
  clientId: 'client-1',
  redirectUri: 'https://app.example/cb',
  responseMode: 'query',
  scope: ['urn:matrix:client:api:*', 'urn:matrix:client:device:ABCDEFGHIJ'],
  deviceId: 'ABCDEFGHIJ',
  state: 'st',
  codeChallenge: 'x'.repeat(43),
  prompt: [],
  ...over,
});
const target = (over: Partial<AuthorizationRequest> = {}): LoginTarget => ({ kind: 'authorization', request: request(over) });

const input = (over: Partial<LoginInput> = {}): LoginInput => ({
  loginId: 'L1',
  target: target(),
  providerIds: ['corp', 'dev'],
  now: 1_000_000,
  ttlSeconds: 1800,
  ...over,
});
const session = { user: { id: 'U1', localpart: 'alice' }, browserSession: { id: 'B1', authenticatedAt: 999 } };

const callback = (state: string): LoginEvent => ({
  type: 'UPSTREAM_CALLBACK',
  providerId: 'corp',
  state,
  callback: { method: 'POST', url: 'http://x/upstream/corp/callback', query: {}, body: { state, username: 'alice' }, ip: '127.0.0.1' },
});

const assertion: Assertion = { providerId: 'corp', subject: 'alice', attributes: { username: 'alice' }, upstreamSid: 'sid-1' };
const mapped = (action: 'force' | 'suggest' = 'force'): MappedIdentity => ({
  providerId: 'corp',
  subject: 'alice',
  localpart: { value: 'alice', action, mode: action === 'force' ? 'use' : 'ask', sync: 'first_login' },
  displayname: { action: 'force', sync: 'first_login' },
  email: { action: 'force', sync: 'first_login' },
  onConflict: 'fail',
});

/** Implementations that record their calls (real promises, no I/O). */
function actors(opts: { link?: 'signed_in' | 'register'; needConsent?: boolean; register?: (i: RegisterAccountInput) => boolean; failComplete?: unknown; terms?: TermsOutput } = {}) {
  const calls: string[] = [];
  const impl = {
    beginUpstream: fromPromise(async ({ input }: { input: BeginUpstreamInput }): Promise<BeginUpstreamOutput> => {
      calls.push(`begin:${input.providerId}`);
      return { state: `state-${calls.length}`, saved: { nonce: 'n' }, redirect: { url: `https://idp.example/auth?state=state-${calls.length}` } };
    }),
    completeUpstream: fromPromise(async ({ input }: { input: CompleteUpstreamInput }) => {
      calls.push(`complete:${input.state}`);
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- the test injects what the actor throws, errors or not
      if (opts.failComplete) throw opts.failComplete;
      return assertion;
    }),
    mapIdentity: fromPromise(async (_: { input: MapIdentityInput }) => {
      calls.push('map');
      return mapped(opts.link === 'register' ? 'suggest' : 'force');
    }),
    linkIdentity: fromPromise(async (_: { input: { providerId: string; mapped: MappedIdentity } }): Promise<LinkIdentityOutput> => {
      calls.push('link');
      return opts.link === 'register' ? { outcome: 'register' as const, suggestion: 'alice' } : { outcome: 'signed_in' as const, user: { id: 'U1', localpart: 'alice' } };
    }),
    registerAccount: fromPromise(async ({ input }: { input: RegisterAccountInput }): Promise<RegisterAccountOutput> => {
      calls.push(`register:${input.localpart}`);
      return (opts.register ?? (() => true))(input) ? { ok: true as const, user: { id: 'U2', localpart: input.localpart } } : { ok: false as const, error: msg('register.taken') };
    }),
    startSession: fromPromise(async (_: { input: StartSessionInput }) => {
      calls.push('session');
      return { id: 'B9', authenticatedAt: 5 };
    }),
    checkTerms: fromPromise(async ({ input }: { input: TermsInput }): Promise<TermsOutput> => {
      if (opts.terms) calls.push(`checkTerms:${input.user.id}`);
      return opts.terms ?? { needed: false, changed: false };
    }),
    acceptTerms: fromPromise(async ({ input }: { input: TermsInput }): Promise<void> => {
      calls.push(`acceptTerms:${input.user.id}`);
    }),
    checkConsent: fromPromise(async (_: { input: CheckConsentInput }) => {
      calls.push('checkConsent');
      return { needed: opts.needConsent ?? true };
    }),
    completeLogin: fromPromise(async ({ input }: { input: CompleteLoginInput }): Promise<{ redirectUrl?: string }> => {
      calls.push(`completeLogin:${input.consentGiven}`);
      return { redirectUrl: 'https://app.example/cb?code=C&state=st' };
    }),
    rejectLogin: fromPromise(async (_: { input: { target: LoginTarget } }): Promise<void> => {
      calls.push('reject');
    }),
  };
  return { calls, machine: loginMachine.provide({ actors: impl }) };
}

type Snap = SnapshotFrom<typeof loginMachine>;

/** Every actor a test starts is stopped afterwards (their login.ttl timers would keep Jest alive). */
const running: { stop(): void }[] = [];
const createActor: typeof createXstateActor = ((logic: never, options: never) => {
  const actor = createXstateActor(logic, options);
  running.push(actor);
  return actor;
}) as never;
afterEach(() => {
  for (const a of running.splice(0)) a.stop();
});
const settle = (actor: { getSnapshot(): Snap } & Parameters<typeof waitFor>[0]) => waitFor(actor as never, (s: Snap) => s.status !== 'active' || !s.hasTag('busy')) as Promise<Snap>;

describe('login machine: transitions (no side effects)', () => {
  it('shows the picker when several providers are offered and none is chosen', () => {
    const [s] = initialTransition(loginMachine, input());
    expect(s.value).toBe('selectingProvider');
    expect(s.hasTag('waiting')).toBe(true);
  });

  it('skips the picker when a provider is preselected (single provider, ?provider= or login_hint)', () => {
    const [s, actions] = initialTransition(loginMachine, input({ preselectedProvider: 'corp' }));
    expect(s.value).toBe('redirectingUpstream');
    expect(s.hasTag('busy')).toBe(true);
    expect(actions.some((a) => a.type === 'xstate.spawnChild')).toBe(true);
  });

  it('ignores a preselected provider that is not offered', () => {
    const [s] = initialTransition(loginMachine, input({ preselectedProvider: 'nope' }));
    expect(s.value).toBe('selectingProvider');
  });

  it('reuses an existing browser session: straight to the terms check, then consent, no upstream', () => {
    const [s] = initialTransition(loginMachine, input({ session }));
    expect(statePath(s.value)).toBe('terms.checking');
    expect(s.context.user).toEqual(session.user);
  });

  it('prompt=login and prompt=create do not reuse the browser session', () => {
    for (const prompt of [['login'], ['create']]) {
      const [s] = initialTransition(loginMachine, input({ session, target: target({ prompt }) }));
      expect(s.value).toBe('selectingProvider');
      expect(s.context.user).toBeUndefined();
    }
  });

  it('prompt=none without a browser session fails with login_required', () => {
    const [s] = initialTransition(loginMachine, input({ target: target({ prompt: ['none'] }) }));
    expect(s.value).toBe('failed');
    expect(s.status).toBe('done');
    expect(s.context.failure).toEqual({ kind: 'oauth', code: 'login_required', reason: 'login_required' });
  });

  it('PROVIDER_CHOSEN moves to redirectingUpstream only for an offered provider', () => {
    const [s0] = initialTransition(loginMachine, input());
    expect(s0.can({ type: 'PROVIDER_CHOSEN', providerId: 'evil' })).toBe(false);
    expect(s0.can({ type: 'PROVIDER_CHOSEN', providerId: 'dev' })).toBe(true);
    const [s1] = transition(loginMachine, s0, { type: 'PROVIDER_CHOSEN', providerId: 'dev' });
    expect(s1.value).toBe('redirectingUpstream');
    expect(s1.context.providerId).toBe('dev');
  });

  it('rejects events that are not valid in the current state', () => {
    const [s0] = initialTransition(loginMachine, input());
    expect(s0.can({ type: 'CONSENT_GIVEN' })).toBe(false);
    expect(s0.can({ type: 'FORM_SUBMITTED', localpart: 'x' })).toBe(false);
    expect(s0.can(callback('anything'))).toBe(false);
    // An invalid event leaves the snapshot unchanged.
    const [s1] = transition(loginMachine, s0, { type: 'CONSENT_GIVEN' });
    expect(s1.value).toBe('selectingProvider');
  });

  it('CANCEL goes through cancelling (device codes are denied there) to failed with access_denied', () => {
    const [s0] = initialTransition(loginMachine, input());
    const [s1] = transition(loginMachine, s0, { type: 'CANCEL' });
    expect(s1.value).toBe('cancelling');
  });

  it('TIMEOUT expires a login in any waiting state', () => {
    const [s0] = initialTransition(loginMachine, input());
    const [s1] = transition(loginMachine, s0, { type: 'TIMEOUT' });
    expect(s1.value).toBe('expired');
    expect(s1.status).toBe('done');
    expect(s1.can({ type: 'PROVIDER_CHOSEN', providerId: 'dev' })).toBe(false);
  });
});

describe('login machine: running with provided actors', () => {
  it('picker → upstream → callback → mapping → linking → session → consent → completed', async () => {
    const { calls, machine } = actors();
    const actor = createActor(machine, { input: input() }).start();
    actor.send({ type: 'PROVIDER_CHOSEN', providerId: 'corp' });
    let s = await settle(actor);
    expect(statePath(s.value)).toBe('awaitingCallback.waiting');
    expect(s.context.upstream).toMatchObject({ state: 'state-1', redirect: { url: expect.stringContaining('idp.example') } });

    expect(s.can(callback('forged'))).toBe(false);
    actor.send(callback('state-1'));
    s = await settle(actor);
    expect(statePath(s.value)).toBe('consenting.asking');
    expect(s.context.upstream).toBeUndefined();
    expect(s.context.assertion).toBeUndefined();
    expect(s.context.browserSession).toEqual({ id: 'B9', authenticatedAt: 5 });
    expect(s.context.newBrowserSession).toBe(true);

    actor.send({ type: 'CONSENT_GIVEN' });
    s = await settle(actor);
    expect(s.value).toBe('completed');
    expect(s.context.redirectUrl).toContain('code=C');
    expect(calls).toEqual(['begin:corp', 'complete:state-1', 'map', 'link', 'session', 'checkConsent', 'completeLogin:true']);
    actor.stop();
  });

  it('an IdP-initiated sign-in waits on "Continue as …?" before any session starts; Cancel starts none', async () => {
    const account: LoginTarget = { kind: 'account', returnTo: 'http://x/account/', prompt: ['login'] };
    for (const decision of ['CONFIRMED', 'CANCEL'] as const) {
      // The account pages ask no consent (LoginActors.checkConsent).
      const { calls, machine } = actors({ needConsent: false });
      const actor = createActor(machine, { input: input({ target: account, session, preselectedProvider: 'corp', unsolicited: { currentLocalpart: 'bob' } }) }).start();
      let s = await settle(actor);
      expect(statePath(s.value)).toBe('awaitingCallback.waiting');
      actor.send(callback('state-1'));
      s = await settle(actor);
      expect(s.value).toBe('confirming');
      expect(s.context.user).toEqual({ id: 'U1', localpart: 'alice' });
      expect(s.context.unsolicited).toEqual({ currentLocalpart: 'bob' });
      expect(s.context.browserSession).toBeUndefined();
      expect(calls).not.toContain('session');
      actor.send({ type: decision });
      s = await settle(actor);
      if (decision === 'CONFIRMED') {
        expect(s.value).toBe('completed');
        expect(calls).toContain('session');
      } else {
        expect(s.value).toBe('failed');
        expect(calls).not.toContain('session');
      }
      actor.stop();
    }
  });

  it('a solicited sign-in never stops on the confirmation step', () => {
    const [s0] = initialTransition(loginMachine, input());
    expect(s0.can({ type: 'CONFIRMED' })).toBe(false);
  });

  it('skips the consent page when consent was already given', async () => {
    const { calls, machine } = actors({ needConsent: false });
    const actor = createActor(machine, { input: input({ session }) }).start();
    const s = await settle(actor);
    expect(s.value).toBe('completed');
    expect(calls).toEqual(['checkConsent', 'completeLogin:false']);
  });

  it('prompt=none with a session but no consent fails with consent_required', async () => {
    const { machine } = actors({ needConsent: true });
    const actor = createActor(machine, { input: input({ session, target: target({ prompt: ['none'] }) }) }).start();
    const s = await settle(actor);
    expect(s.value).toBe('failed');
    expect(s.context.failure).toEqual({ kind: 'oauth', code: 'consent_required', reason: 'consent_required' });
  });

  it('registration: a refused localpart keeps the form with the error; an accepted one signs in', async () => {
    const { calls, machine } = actors({ link: 'register', register: (i) => i.localpart !== 'taken' });
    const actor = createActor(machine, { input: input({ preselectedProvider: 'corp' }) }).start();
    let s = await settle(actor);
    actor.send(callback(s.context.upstream!.state));
    s = await settle(actor);
    expect(statePath(s.value)).toBe('registering.choosing');
    expect(s.context.registration).toEqual({ suggestion: 'alice', fixed: false });

    actor.send({ type: 'FORM_SUBMITTED', localpart: 'taken' });
    s = await settle(actor);
    expect(statePath(s.value)).toBe('registering.choosing');
    expect(s.context.registration).toMatchObject({ suggestion: 'alice', value: 'taken', error: msg('register.taken') });

    actor.send({ type: 'FORM_SUBMITTED', localpart: 'alice2' });
    s = await settle(actor);
    expect(statePath(s.value)).toBe('consenting.asking');
    expect(s.context.user).toEqual({ id: 'U2', localpart: 'alice2' });
    expect(calls).toContain('register:alice2');
  });

  it('an upstream error fails the login with its user-safe message only', async () => {
    const { machine } = actors({ failComplete: new UpstreamError('signature_invalid', msg('upstream.signature_invalid'), new Error('secret detail')) });
    const actor = createActor(machine, { input: input({ preselectedProvider: 'corp' }) }).start();
    let s = await settle(actor);
    actor.send(callback(s.context.upstream!.state));
    s = await settle(actor);
    expect(s.value).toBe('failed');
    expect(s.context.failure).toEqual({ kind: 'page', status: 400, title: msg('error.title.sign_in_failed'), message: msg('upstream.signature_invalid'), reason: 'signature_invalid' });
    expect(JSON.stringify(s.context)).not.toContain('secret detail');
  });

  it('a page error (locked account) keeps its status and wording', async () => {
    const { machine } = actors();
    const locked = machine.provide({
      actors: {
        linkIdentity: fromPromise(async (_: { input: { providerId: string; mapped: MappedIdentity } }): Promise<LinkIdentityOutput> => {
          throw new PageError(403, 'error.title.account_locked', 'error.account_locked');
        }),
      },
    });
    const actor = createActor(locked, { input: input({ preselectedProvider: 'corp' }) }).start();
    let s = await settle(actor);
    actor.send(callback(s.context.upstream!.state));
    s = await settle(actor);
    expect(s.context.failure).toEqual({ kind: 'page', status: 403, title: msg('error.title.account_locked'), message: msg('error.account_locked'), reason: 'http_403' });
  });

  it('CANCEL on the consent page ends in access_denied after rejectLogin ran', async () => {
    const { calls, machine } = actors();
    const actor = createActor(machine, { input: input({ session }) }).start();
    await settle(actor);
    actor.send({ type: 'CANCEL' });
    const s = await settle(actor);
    expect(s.value).toBe('failed');
    expect(s.context.failure).toMatchObject({ kind: 'oauth', code: 'access_denied' });
    expect(calls).toContain('reject');
  });
});

describe('login machine: terms of service', () => {
  const needed = { needed: true, changed: false };

  it('a first sign-up is asked to accept them before its session starts; the acceptance is recorded', async () => {
    const { calls, machine } = actors({ link: 'register', terms: needed });
    const actor = createActor(machine, { input: input({ preselectedProvider: 'corp' }) }).start();
    let s = await settle(actor);
    actor.send(callback(s.context.upstream!.state));
    s = await settle(actor);
    actor.send({ type: 'FORM_SUBMITTED', localpart: 'alice' });
    s = await settle(actor);
    expect(statePath(s.value)).toBe('terms.asking');
    expect(s.hasTag('waiting')).toBe(true);
    expect(s.context.terms).toEqual({ changed: false });
    expect(s.context.browserSession).toBeUndefined();
    expect(s.can({ type: 'CONSENT_GIVEN' })).toBe(false);

    actor.send({ type: 'TERMS_ACCEPTED' });
    s = await settle(actor);
    expect(statePath(s.value)).toBe('consenting.asking');
    expect(s.context.terms).toBeUndefined();
    expect(calls).toEqual(['begin:corp', 'complete:state-1', 'map', 'link', 'register:alice', 'checkTerms:U2', 'acceptTerms:U2', 'session', 'checkConsent']);
  });

  it('a changed version asks a returning user again, also on a reused browser session (then consent, no new session)', async () => {
    const { calls, machine } = actors({ terms: { needed: true, changed: true } });
    const actor = createActor(machine, { input: input({ session }) }).start();
    let s = await settle(actor);
    expect(statePath(s.value)).toBe('terms.asking');
    expect(s.context.terms).toEqual({ changed: true });
    actor.send({ type: 'TERMS_ACCEPTED' });
    s = await settle(actor);
    expect(statePath(s.value)).toBe('consenting.asking');
    expect(calls).toEqual(['checkTerms:U1', 'acceptTerms:U1', 'checkConsent']);
  });

  it('accepted terms cost no page: straight on', async () => {
    const { calls, machine } = actors({ terms: { needed: false, changed: false } });
    const actor = createActor(machine, { input: input({ session }) }).start();
    expect(statePath((await settle(actor)).value)).toBe('consenting.asking');
    expect(calls).toEqual(['checkTerms:U1', 'checkConsent']);
  });

  it('Cancel refuses the sign-in (access_denied); prompt=none cannot show the page (interaction_required)', async () => {
    const cancelled = actors({ terms: needed });
    const a1 = createActor(cancelled.machine, { input: input({ session }) }).start();
    await settle(a1);
    a1.send({ type: 'CANCEL' });
    const s1 = await settle(a1);
    expect(s1.value).toBe('failed');
    expect(s1.context.failure).toMatchObject({ kind: 'oauth', code: 'access_denied' });
    expect(cancelled.calls).not.toContain('acceptTerms:U1');

    const silent = actors({ terms: needed });
    const a2 = createActor(silent.machine, { input: input({ session, target: target({ prompt: ['none'] }) }) }).start();
    const s2 = await settle(a2);
    expect(s2.value).toBe('failed');
    expect(s2.context.failure).toEqual({ kind: 'oauth', code: 'interaction_required', reason: 'terms_not_accepted' });
  });

  it('the terms page survives a JSON round trip of the snapshot', async () => {
    const first = actors({ terms: needed });
    const a1 = createActor(first.machine, { input: input({ session }) }).start();
    await settle(a1);
    const stored = JSON.parse(JSON.stringify(a1.getPersistedSnapshot()));
    a1.stop();
    const second = actors({ terms: needed });
    const a2 = createActor(second.machine, { snapshot: stored, input: undefined as never }).start();
    expect(statePath(a2.getSnapshot().value)).toBe('terms.asking');
    expect(a2.getSnapshot().can({ type: 'TERMS_ACCEPTED' })).toBe(true);
    a2.send({ type: 'TERMS_ACCEPTED' });
    expect(statePath((await settle(a2)).value)).toBe('consenting.asking');
    expect(second.calls).toEqual(['acceptTerms:U1', 'checkConsent']);
  });
});

describe('login machine: persistence', () => {
  it('survives a JSON round trip of the persisted snapshot and resumes without re-running anything', async () => {
    const first = actors();
    const a1 = createActor(first.machine, { input: input({ preselectedProvider: 'corp' }) }).start();
    const waiting = await settle(a1);
    expect(statePath(waiting.value)).toBe('awaitingCallback.waiting');
    const stored = JSON.parse(JSON.stringify(a1.getPersistedSnapshot()));
    a1.stop();

    const second = actors();
    const a2 = createActor(second.machine, { snapshot: stored, input: undefined as never }).start();
    const restored = a2.getSnapshot();
    expect(statePath(restored.value)).toBe('awaitingCallback.waiting');
    expect(restored.hasTag('waiting')).toBe(true);
    expect(restored.context).toEqual(waiting.context);
    expect(restored.can(callback(waiting.context.upstream!.state))).toBe(true);
    expect(restored.can({ type: 'CONSENT_GIVEN' })).toBe(false);
    // Restoring neither re-entered a state nor restarted an actor.
    expect(second.calls).toEqual([]);

    a2.send(callback(waiting.context.upstream!.state));
    const s = await settle(a2);
    expect(statePath(s.value)).toBe('consenting.asking');
    expect(second.calls[0]).toBe(`complete:${waiting.context.upstream!.state}`);

    // Round trip again in the consent state, then finish.
    const stored2 = JSON.parse(JSON.stringify(a2.getPersistedSnapshot()));
    a2.stop();
    const third = actors();
    const a3 = createActor(third.machine, { snapshot: stored2, input: undefined as never }).start();
    a3.send({ type: 'CONSENT_GIVEN' });
    expect((await settle(a3)).value).toBe('completed');
    expect(third.calls).toEqual(['completeLogin:true']);
  });
});

describe('login machine: expiry', () => {
  it('expires after login.ttl on the (simulated) clock', async () => {
    const clock = new SimulatedClock();
    const { machine } = actors();
    const actor = createActor(machine, { input: input({ ttlSeconds: 60 }), clock }).start();
    expect(actor.getSnapshot().value).toBe('selectingProvider');
    clock.increment(59_999);
    expect(actor.getSnapshot().value).toBe('selectingProvider');
    clock.increment(1);
    expect(actor.getSnapshot().value).toBe('expired');
    expect(actor.getSnapshot().status).toBe('done');
  });
});

describe('login machine: a legacy client’s SSO login (purpose compat_sso)', () => {
  const compat = (action?: 'login' | 'register'): LoginTarget => ({ kind: 'compat_sso', redirectUrl: 'https://app.example/cb', ...(action ? { action } : {}) });

  it('reuses the browser session unless the client asked for sign-up (action=register, as prompt=create)', () => {
    const [reused] = initialTransition(loginMachine, input({ session, target: compat() }));
    expect(statePath(reused.value)).toBe('terms.checking');
    const [signUp] = initialTransition(loginMachine, input({ session, target: compat('register') }));
    expect(signUp.value).toBe('selectingProvider');
    expect(signUp.context.prompt).toEqual(['create']);
    expect(signUp.context.user).toBeUndefined();
  });

  it('the idp the client named skips the picker', () => {
    const [s] = initialTransition(loginMachine, input({ target: compat(), preselectedProvider: 'corp' }));
    expect(s.value).toBe('redirectingUpstream');
  });

  it('keeps its states: upstream sign-in, then the confirmation step (consenting), then completed with the redirect', async () => {
    const { calls, machine } = actors({ needConsent: true });
    const actor = createActor(machine, { input: input({ target: compat(), preselectedProvider: 'corp' }) }).start();
    let s = await settle(actor);
    actor.send(callback(s.context.upstream!.state));
    s = await settle(actor);
    expect(statePath(s.value)).toBe('consenting.asking');
    actor.send({ type: 'CONSENT_GIVEN' });
    s = await settle(actor);
    expect(s.value).toBe('completed');
    expect(calls).toEqual(['begin:corp', 'complete:state-1', 'map', 'link', 'session', 'checkConsent', 'completeLogin:true']);
  });

  it('Cancel on the confirmation step fails the login (access_denied): no token is issued', async () => {
    const { calls, machine } = actors({ needConsent: true });
    const actor = createActor(machine, { input: input({ session, target: compat() }) }).start();
    let s = await settle(actor);
    expect(statePath(s.value)).toBe('consenting.asking');
    actor.send({ type: 'CANCEL' });
    s = await settle(actor);
    expect(s.value).toBe('failed');
    expect(s.context.failure).toMatchObject({ kind: 'oauth', code: 'access_denied' });
    expect(calls).not.toContain('completeLogin:true');
  });

  it('expires after its lifetime (the time left of the 30 minutes)', () => {
    const clock = new SimulatedClock();
    const { machine } = actors();
    const actor = createActor(machine, { input: input({ target: compat(), ttlSeconds: 60 }), clock }).start();
    clock.increment(59_000);
    expect(actor.getSnapshot().value).toBe('selectingProvider');
    clock.increment(1_000);
    expect(actor.getSnapshot().value).toBe('expired');
  });
});

describe('login machine: account linking (on_conflict: confirm, "Add a sign-in method")', () => {
  /** The confirm flow's actors: the first identity's username belongs to U7, linked to `corp`. */
  function linkingActors(confirm: (i: { reauth: { providerId: string } }) => { id: string; localpart: string } | Error) {
    const calls: string[] = [];
    const machine = loginMachine.provide({
      actors: {
        beginUpstream: fromPromise(async ({ input }: { input: BeginUpstreamInput }): Promise<BeginUpstreamOutput> => {
          calls.push(`begin:${input.providerId}:${input.prompt.join(',')}`);
          return { state: `state-${calls.length}`, saved: {}, redirect: { url: 'https://idp.example/auth' } };
        }),
        completeUpstream: fromPromise(async () => assertion),
        mapIdentity: fromPromise(async ({ input }: { input: MapIdentityInput }) => ({ ...mapped(), providerId: input.providerId, subject: `${input.providerId}-subject` })),
        linkIdentity: fromPromise(async (): Promise<LinkIdentityOutput> => {
          calls.push('link');
          return { outcome: 'confirm', user: { id: 'U7', localpart: 'alice' }, providerIds: ['corp'] };
        }),
        confirmLink: fromPromise(async ({ input }: { input: ConfirmLinkInput }) => {
          calls.push(`confirm:${input.pending.providerId}->${input.userId} via ${input.reauth.providerId}`);
          const r = confirm(input);
          if (r instanceof Error) throw r;
          return r;
        }),
        attachIdentity: fromPromise(async ({ input }: { input: AttachIdentityInput }) => {
          calls.push(`attach:${input.providerId}->${input.target.userId}`);
          return { redirectUrl: 'https://cw.example/account/?done=linked' };
        }),
        startSession: fromPromise(async ({ input }: { input: StartSessionInput }) => {
          calls.push(`session:${input.user.id}:${input.providerId}`);
          return { id: 'B9', authenticatedAt: 5 };
        }),
        checkConsent: fromPromise(async (): Promise<{ needed: boolean }> => ({ needed: false })),
        completeLogin: fromPromise(async (): Promise<{ redirectUrl?: string }> => ({ redirectUrl: 'https://app.example/cb?code=C&state=st' })),
      },
    });
    return { calls, machine };
  }

  it('confirm: waits for a sign-in with a linked method (fresh: prompt=login), links only after it, then signs in as that account', async () => {
    const { calls, machine } = linkingActors(() => ({ id: 'U7', localpart: 'alice' }));
    const actor = createActor(machine, { input: input({ preselectedProvider: 'dev' }) }).start();
    let s = await settle(actor);
    expect(statePath(s.value)).toBe('awaitingCallback.waiting');
    actor.send({ ...(callback(s.context.upstream!.state) as Extract<LoginEvent, { type: 'UPSTREAM_CALLBACK' }>), providerId: 'dev' });
    s = await settle(actor);
    expect(statePath(s.value)).toBe('confirmingLink.choosing');
    expect(s.context.pendingLink).toMatchObject({ providerId: 'dev', user: { id: 'U7' }, providerIds: ['corp'] });
    // Only a method linked to the account may be used; nothing was linked yet.
    expect(s.can({ type: 'PROVIDER_CHOSEN', providerId: 'dev' })).toBe(false);
    expect(calls.some((c) => c.startsWith('confirm'))).toBe(false);
    actor.send({ type: 'PROVIDER_CHOSEN', providerId: 'corp' });
    s = await settle(actor);
    expect(calls).toContain('begin:corp:login');
    actor.send(callback(s.context.upstream!.state) as never);
    s = await settle(actor);
    expect(calls).toContain('confirm:dev->U7 via corp');
    expect(calls).toContain('session:U7:dev');
    expect(s.value).toBe('completed');
    expect(s.context.pendingLink).toBeUndefined();
  });

  it('confirm: a re-authentication that is not the account fails the login without linking', async () => {
    const { machine } = linkingActors(() => new PageError(403, 'error.title.not_same_account', msg('error.link_confirmation_mismatch', { provider: 'Corp' })));
    const actor = createActor(machine, { input: input({ preselectedProvider: 'dev' }) }).start();
    let s = await settle(actor);
    actor.send({ ...(callback(s.context.upstream!.state) as Extract<LoginEvent, { type: 'UPSTREAM_CALLBACK' }>), providerId: 'dev' });
    s = await settle(actor);
    actor.send({ type: 'PROVIDER_CHOSEN', providerId: 'corp' });
    s = await settle(actor);
    actor.send(callback(s.context.upstream!.state) as never);
    s = await settle(actor);
    expect(s.value).toBe('failed');
    expect(s.context.failure).toMatchObject({ kind: 'page', status: 403 });
    expect(s.context.pendingLink).toBeUndefined();
  });

  it('"Add a sign-in method": a fresh sign-in (prompt=login, no session reuse), the identity attached, back to the account page', async () => {
    const { calls, machine } = linkingActors(() => new Error('unused'));
    const linkTarget: LoginTarget = { kind: 'link', userId: 'U1', browserSessionId: 'B1', returnTo: 'https://cw.example/account/?action=org.matrix.profile' };
    const actor = createActor(machine, { input: input({ target: linkTarget, session, preselectedProvider: 'corp' }) }).start();
    let s = await settle(actor);
    expect(s.context.user).toBeUndefined();
    expect(calls).toContain('begin:corp:login');
    actor.send(callback(s.context.upstream!.state) as never);
    s = await settle(actor);
    expect(s.value).toBe('completed');
    expect(calls).toContain('attach:corp->U1');
    expect(calls.some((c) => c.startsWith('session') || c === 'link')).toBe(false);
    expect(s.context.redirectUrl).toBe('https://cw.example/account/?done=linked');
  });
});
