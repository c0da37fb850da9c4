import { assign, fromPromise, setup } from 'xstate';
import type { AuthorizationRequest, DeviceAuthorizationRef } from '../oauth2/authorize/authorization-request.js';
import type { Assertion, CallbackRequest, DownstreamRequest } from '../upstream/connector.js';
import type { MappedIdentity } from '../upstream/mapping/mapped-identity.js';
import { isMsg, msg, type Msg } from '../web/i18n/message.js';

/**
 * One login attempt (docs/architecture.md, "A login, step by step"). Created by /authorize, the
 * device verification page, the account pages or a legacy client's SSO redirect
 * (/complete-compat-sso/{id}); every
 * HTTP request restores the persisted snapshot, sends one event, waits until no step is running
 * (tag `busy`), persists and stops the actor (login.store.ts). Side effects are the named actors,
 * provided with `machine.provide({ actors })` by LoginActors; the context keeps only what must
 * survive a redirect and is JSON-serialisable.
 */

/**
 * What the login is for: an OAuth authorization request, approving a device code, Causeway's own
 * account pages, or a legacy client's SSO login (MSC3824 compatibility layer), which ends on a
 * confirmation page and sends the browser to `redirectUrl` with a single-use `loginToken`.
 */
export type LoginTarget =
  | { kind: 'authorization'; request: AuthorizationRequest }
  | { kind: 'device'; device: DeviceAuthorizationRef }
  /** `returnTo`: a path under the account pages; `prompt: ['login']` re-authenticates before a destructive action. */
  | { kind: 'account'; returnTo: string; prompt?: string[] }
  /** `redirectUrl`: validated (login/sso-redirect-url.ts); `action: 'register'` ⇒ the sign-up screen. */
  | { kind: 'compat_sso'; redirectUrl: string; action?: 'login' | 'register' }
  /**
   * "Add a sign-in method" on the account page: `userId`, signed in in `browserSessionId`, signs in
   * afresh with another provider; that identity is linked to the account; back to `returnTo`.
   */
  | { kind: 'link'; userId: string; browserSessionId: string; returnTo: string };

export interface LoginUser {
  id: string;
  localpart: string;
}
export interface LoginBrowserSession {
  id: string;
  authenticatedAt: number;
}

/** Where to send the browser to sign in upstream: a redirect or an HTTP-POST form. */
export type UpstreamRedirect = { url: string } | { formPost: { url: string; fields: Record<string, string> } };

/** Why a login ended without success: an OAuth error for the client, or a page for the person. */
export type LoginFailure = (
  | { kind: 'oauth'; code: 'access_denied' | 'login_required' | 'consent_required' | 'interaction_required'; description?: string }
  /** Catalog messages (shown in the language of whoever opens the page). */
  | { kind: 'page'; status: number; title: Msg; message: Msg }
) & {
  /** Machine-readable cause for the audit trail and metrics: an UpstreamError kind, a page's reason, an OAuth code, `cancelled`, `internal_error`. */
  reason?: string;
};

export interface LoginInput {
  loginId: string;
  target: LoginTarget;
  /** The providers offered, in picker order (for a sign-up, those that may create accounts). */
  providerIds: string[];
  /** No provider may create accounts: a sign-up request (prompt=create, a legacy client's register) is a plain sign-in. */
  signUpClosed?: boolean;
  /** Chosen without the picker: the only provider, `?provider=`, or the provider of a `login_hint` account. */
  preselectedProvider?: string;
  /** The browser's current Causeway session, if any (reused unless prompt=login|create). */
  session?: { user: LoginUser; browserSession: LoginBrowserSession };
  userAgent?: string;
  /** The browser signed out of Causeway since its last sign-in (templated authorization parameters may then force re-authentication upstream). */
  loggedOut?: boolean;
  /** The browser's address when the sign-in started. */
  ip?: string;
  /**
   * An IdP-initiated sign-in (an unsolicited response the connector accepted): it stops on a
   * "Continue as …?" page before any session is issued. `currentLocalpart`: whom the browser is
   * signed in as now, so the page can say that continuing replaces that session.
   */
  unsolicited?: { currentLocalpart?: string };
  now: number;
  ttlSeconds: number;
}

export interface LoginContext {
  loginId: string;
  target: LoginTarget;
  providerIds: string[];
  prompt: string[];
  ttlMs: number;
  expiresAt: number;
  userAgent?: string;
  loggedOut?: boolean;
  ip?: string;
  unsolicited?: { currentLocalpart?: string };
  providerId?: string;
  /** Between begin() and the callback: the single-use state and the connector's saved protocol state. */
  upstream?: { state: string; saved: Record<string, unknown>; redirect: UpstreamRedirect };
  assertion?: Assertion;
  /** The verified upstream subject, kept after the assertion is dropped (audit trail). */
  upstreamSubject?: string;
  mapped?: MappedIdentity;
  /**
   * `on_conflict: confirm`: the new identity (of `providerId`) waits here while the person proves
   * they own the account `user` by signing in with one of `providerIds`, already linked to it.
   */
  pendingLink?: { providerId: string; mapped: MappedIdentity; assertion?: Assertion; user: LoginUser; providerIds: string[] };
  /** The registration page: the suggested localpart (fixed: the user may only confirm it), the last submitted values and why they were refused. */
  registration?: { suggestion?: string; fixed?: boolean; value?: string; displayname?: string; error?: Msg };
  user?: LoginUser;
  browserSession?: LoginBrowserSession;
  /**
   * The browser session was started by this step: the HTTP layer issues its cookie on the answer
   * to this request only (never persisted: LoginStore drops it).
   */
  newBrowserSession?: boolean;
  consentGiven?: boolean;
  /** The terms-of-service step: the person accepted an earlier version (the page says they changed). */
  terms?: { changed: boolean };
  /** Final redirect to the client. Never persisted (it carries the authorization code): see LoginStore. */
  redirectUrl?: string;
  failure?: LoginFailure;
}

export type LoginEvent =
  | { type: 'PROVIDER_CHOSEN'; providerId: string }
  | { type: 'UPSTREAM_CALLBACK'; providerId: string; state: string; callback: CallbackRequest }
  | { type: 'FORM_SUBMITTED'; localpart: string; displayname?: string }
  | { type: 'CONSENT_GIVEN' }
  | { type: 'TERMS_ACCEPTED' }
  /** "Continue as …?" confirmed (IdP-initiated sign-ins). */
  | { type: 'CONFIRMED' }
  | { type: 'CANCEL' }
  | { type: 'TIMEOUT' };

// ---- actor contracts (implemented by LoginActors) ----

export interface BeginUpstreamInput {
  loginId: string;
  providerId: string;
  prompt: string[];
  loginHint?: string;
  request: DownstreamRequest;
}
export interface BeginUpstreamOutput {
  state: string;
  saved: Record<string, unknown>;
  redirect: UpstreamRedirect;
}
export interface CompleteUpstreamInput {
  loginId: string;
  providerId: string;
  state: string;
  saved: Record<string, unknown>;
  prompt: string[];
  loginHint?: string;
  request: DownstreamRequest;
  callback: CallbackRequest;
}
export interface MapIdentityInput {
  providerId: string;
  assertion: Assertion;
}
export type LinkIdentityOutput =
  | { outcome: 'signed_in'; user: LoginUser }
  | { outcome: 'register'; suggestion?: string; fixed?: boolean }
  /** The username has an account; link only after the person signs in with one of `providerIds` (on_conflict: confirm). */
  | { outcome: 'confirm'; user: LoginUser; providerIds: string[] };
export interface ConfirmLinkInput {
  pending: { providerId: string; mapped: MappedIdentity };
  reauth: { providerId: string; mapped: MappedIdentity };
  userId: string;
}
export interface AttachIdentityInput {
  target: Extract<LoginTarget, { kind: 'link' }>;
  providerId: string;
  mapped: MappedIdentity;
}
export interface RegisterAccountInput {
  providerId: string;
  mapped: MappedIdentity;
  localpart: string;
  displayname?: string;
}
export type RegisterAccountOutput = { ok: true; user: LoginUser } | { ok: false; error: Msg };
export interface StartSessionInput {
  user: LoginUser;
  providerId: string;
  assertion?: Assertion;
  userAgent?: string;
  ip?: string;
}
export interface CheckConsentInput {
  target: LoginTarget;
  user: LoginUser;
}
export interface TermsInput {
  user: LoginUser;
}
export interface TermsOutput {
  needed: boolean;
  changed: boolean;
}
export interface CompleteLoginInput {
  target: LoginTarget;
  user: LoginUser;
  browserSession: LoginBrowserSession;
  consentGiven: boolean;
}

const notProvided = <I, O>(name: string) =>
  fromPromise<O, I>(async () => {
    throw new Error(`login actor "${name}" was not provided`);
  });

/**
 * Errors thrown by actors, as plain data for the snapshot. Anything carrying a user-safe message
 * (PageError, UpstreamError, OAuth errors) keeps it; anything else becomes a generic page (the
 * actor implementations log the cause).
 */
export function failureFrom(error: unknown): LoginFailure {
  const e = error as {
    name?: string;
    kind?: unknown;
    status?: number;
    title?: unknown;
    userMessage?: unknown;
    code?: string;
    description?: string;
    details?: { reason?: unknown };
  };
  if (e?.name === 'UpstreamError' && isMsg(e.userMessage)) {
    return { kind: 'page', status: e.status ?? 400, title: msg('error.title.sign_in_failed'), message: e.userMessage, reason: typeof e.kind === 'string' ? e.kind : 'upstream_error' };
  }
  if (isMsg(e?.userMessage) && isMsg(e.title) && typeof e.status === 'number') {
    return { kind: 'page', status: e.status, title: e.title, message: e.userMessage, reason: typeof e.details?.reason === 'string' ? e.details.reason : `http_${e.status}` };
  }
  if (e?.code === 'access_denied' || e?.code === 'login_required' || e?.code === 'consent_required') {
    return { kind: 'oauth', code: e.code, description: e.description, reason: e.code };
  }
  return { kind: 'page', status: 500, title: msg('error.title.something_went_wrong'), message: msg('error.internal_sign_in'), reason: 'internal_error' };
}

const loginHintOf = (t: LoginTarget): string | undefined => {
  if (t.kind !== 'authorization') return undefined;
  // `mxid:@alice:example.com` → `alice` for the upstream; other hint forms are not passed on (MSC4198).
  const m = /^mxid:@([^:]+):/.exec(t.request.loginHint ?? '');
  return m?.[1];
};

/** The downstream request as templated authorization parameters see it. */
function downstreamRequestOf(context: LoginContext): DownstreamRequest {
  const t = context.target;
  const clientId = t.kind === 'authorization' ? t.request.clientId : t.kind === 'device' ? t.device.clientId : undefined;
  return {
    ...(clientId ? { client_id: clientId } : {}),
    ...(t.kind === 'authorization' && t.request.loginHint ? { login_hint: t.request.loginHint } : {}),
    ...(t.kind === 'authorization' && t.request.acrValues ? { acr_values: t.request.acrValues } : {}),
    prompt: context.prompt.join(' '),
    logged_out: context.loggedOut === true,
  };
}

export function promptOf(t: LoginTarget): string[] {
  switch (t.kind) {
    case 'authorization':
      return t.request.prompt;
    case 'account':
      return t.prompt ?? [];
    case 'compat_sso':
      // MSC3824 `action=register` is the legacy client's "Create account" button: as prompt=create.
      return t.action === 'register' ? ['create'] : [];
    case 'device':
      return [];
    case 'link':
      // A sign-in method is added only after a fresh sign-in with it.
      return ['login'];
  }
}

export const loginMachine = setup({
  types: {} as {
    context: LoginContext;
    events: LoginEvent;
    input: LoginInput;
    tags: 'busy' | 'waiting';
  },
  actors: {
    beginUpstream: notProvided<BeginUpstreamInput, BeginUpstreamOutput>('beginUpstream'),
    completeUpstream: notProvided<CompleteUpstreamInput, Assertion>('completeUpstream'),
    mapIdentity: notProvided<MapIdentityInput, MappedIdentity>('mapIdentity'),
    linkIdentity: notProvided<{ providerId: string; mapped: MappedIdentity }, LinkIdentityOutput>('linkIdentity'),
    registerAccount: notProvided<RegisterAccountInput, RegisterAccountOutput>('registerAccount'),
    startSession: notProvided<StartSessionInput, LoginBrowserSession>('startSession'),
    checkTerms: notProvided<TermsInput, TermsOutput>('checkTerms'),
    acceptTerms: notProvided<TermsInput, void>('acceptTerms'),
    checkConsent: notProvided<CheckConsentInput, { needed: boolean }>('checkConsent'),
    completeLogin: notProvided<CompleteLoginInput, { redirectUrl?: string }>('completeLogin'),
    rejectLogin: notProvided<{ target: LoginTarget }, void>('rejectLogin'),
    confirmLink: notProvided<ConfirmLinkInput, LoginUser>('confirmLink'),
    attachIdentity: notProvided<AttachIdentityInput, { redirectUrl: string }>('attachIdentity'),
  },
  guards: {
    hasSession: ({ context }) => context.user !== undefined && context.browserSession !== undefined,
    unsolicited: ({ context }) => context.unsolicited !== undefined,
    promptNone: ({ context }) => context.prompt.includes('none'),
    providerChosen: ({ context }) => context.providerId !== undefined && context.providerIds.includes(context.providerId),
    knownProvider: ({ context, event }) => event.type === 'PROVIDER_CHOSEN' && context.providerIds.includes(event.providerId),
    // While confirming a link, only the methods already linked to the account may be used.
    otherKnownProvider: ({ context, event }) =>
      event.type === 'PROVIDER_CHOSEN' &&
      (context.pendingLink ? context.pendingLink.providerIds.includes(event.providerId) && context.pendingLink.providerIds.length > 1 : context.providerIds.includes(event.providerId) && context.providerIds.length > 1),
    linkedProvider: ({ context, event }) => event.type === 'PROVIDER_CHOSEN' && !!context.pendingLink?.providerIds.includes(event.providerId),
    addingMethod: ({ context }) => context.target.kind === 'link',
    confirmingLink: ({ context }) => context.pendingLink !== undefined,
    callbackMatches: ({ context, event }) => event.type === 'UPSTREAM_CALLBACK' && event.providerId === context.providerId && event.state === context.upstream?.state,
    validForm: ({ event }) => event.type === 'FORM_SUBMITTED' && typeof event.localpart === 'string' && event.localpart.length <= 255 && (event.displayname ?? '').length <= 256,
  },
  actions: {
    fail: assign({ failure: (_, params: { error: unknown }) => failureFrom(params.error) }),
    denied: assign({ failure: { kind: 'oauth', code: 'access_denied', description: 'The user cancelled the sign-in.', reason: 'cancelled' } as LoginFailure }),
  },
  delays: {
    loginTtl: ({ context }) => context.ttlMs,
  },
}).createMachine({
  id: 'login',
  context: ({ input }) => {
    const prompt = promptOf(input.target).filter((p) => !(p === 'create' && input.signUpClosed));
    const reuse = input.session && !prompt.includes('login') && !prompt.includes('create');
    return {
      loginId: input.loginId,
      target: input.target,
      providerIds: input.providerIds,
      prompt,
      ttlMs: input.ttlSeconds * 1000,
      expiresAt: input.now + input.ttlSeconds * 1000,
      ...(input.userAgent ? { userAgent: input.userAgent } : {}),
      ...(input.loggedOut ? { loggedOut: true } : {}),
      ...(input.ip ? { ip: input.ip } : {}),
      ...(input.unsolicited ? { unsolicited: input.unsolicited } : {}),
      ...(input.preselectedProvider ? { providerId: input.preselectedProvider } : {}),
      ...(reuse ? { user: input.session!.user, browserSession: input.session!.browserSession } : {}),
    };
  },
  initial: 'routing',
  // The in-request timer (SimulatedClock in tests); across requests the store sends TIMEOUT once expiresAt has passed.
  after: { loginTtl: { target: '.expired' } },
  on: { TIMEOUT: { target: '.expired' } },
  states: {
    routing: {
      always: [
        { guard: 'hasSession', target: 'terms' },
        { guard: 'promptNone', target: 'failed', actions: assign({ failure: { kind: 'oauth', code: 'login_required', reason: 'login_required' } as LoginFailure }) },
        { guard: 'providerChosen', target: 'redirectingUpstream' },
        { target: 'selectingProvider' },
      ],
    },
    selectingProvider: {
      tags: 'waiting',
      on: {
        PROVIDER_CHOSEN: { guard: 'knownProvider', target: 'redirectingUpstream', actions: assign({ providerId: ({ event }) => event.providerId }) },
        CANCEL: { target: 'cancelling' },
      },
    },
    redirectingUpstream: {
      tags: 'busy',
      invoke: {
        src: 'beginUpstream',
        input: ({ context }) => ({
          loginId: context.loginId,
          providerId: context.providerId!,
          prompt: context.prompt,
          loginHint: loginHintOf(context.target),
          request: downstreamRequestOf(context),
        }),
        onDone: { target: 'awaitingCallback', actions: assign({ upstream: ({ event }) => event.output }) },
        onError: { target: 'failed', actions: { type: 'fail', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    awaitingCallback: {
      initial: 'waiting',
      states: {
        waiting: {
          tags: 'waiting',
          on: {
            UPSTREAM_CALLBACK: { guard: 'callbackMatches', target: 'verifying' },
            // "Use another way to sign in" on the continue page.
            PROVIDER_CHOSEN: {
              guard: 'otherKnownProvider',
              target: '#login.redirectingUpstream',
              actions: assign({ providerId: ({ event }) => event.providerId, upstream: undefined }),
            },
            CANCEL: { target: '#login.cancelling' },
          },
        },
        verifying: {
          tags: 'busy',
          invoke: {
            src: 'completeUpstream',
            input: ({ context, event }) => {
              if (event.type !== 'UPSTREAM_CALLBACK') throw new Error('verifying entered without a callback');
              return {
                loginId: context.loginId,
                providerId: context.providerId!,
                state: context.upstream!.state,
                saved: context.upstream!.saved,
                prompt: context.prompt,
                loginHint: loginHintOf(context.target),
                request: downstreamRequestOf(context),
                callback: event.callback,
              };
            },
            // The protocol state is spent: drop it (it may hold a PKCE verifier or nonce).
            onDone: { target: '#login.mapping', actions: assign({ assertion: ({ event }) => event.output, upstreamSubject: ({ event }) => event.output.subject, upstream: undefined }) },
            onError: { target: '#login.failed', actions: [assign({ upstream: undefined }), { type: 'fail', params: ({ event }) => ({ error: event.error }) }] },
          },
        },
      },
    },
    mapping: {
      tags: 'busy',
      invoke: {
        src: 'mapIdentity',
        input: ({ context }) => ({ providerId: context.providerId!, assertion: context.assertion! }),
        onDone: [
          { guard: 'addingMethod', target: 'attaching', actions: assign({ mapped: ({ event }) => event.output }) },
          { guard: 'confirmingLink', target: 'confirmingLink.verifying', actions: assign({ mapped: ({ event }) => event.output }) },
          { target: 'linking', actions: assign({ mapped: ({ event }) => event.output }) },
        ],
        onError: { target: 'failed', actions: { type: 'fail', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    /** "Add a sign-in method": link the identity just verified to the signed-in account, then back to the account page. */
    attaching: {
      tags: 'busy',
      invoke: {
        src: 'attachIdentity',
        input: ({ context }) => ({ target: context.target as AttachIdentityInput['target'], providerId: context.providerId!, mapped: context.mapped! }),
        onDone: { target: 'completed', actions: assign({ redirectUrl: ({ event }) => event.output.redirectUrl, assertion: undefined, mapped: undefined }) },
        onError: { target: 'failed', actions: [assign({ assertion: undefined, mapped: undefined }), { type: 'fail', params: ({ event }) => ({ error: event.error }) }] },
      },
    },
    /** `on_conflict: confirm`: "This username already exists — sign in with your current method to link it". */
    confirmingLink: {
      initial: 'choosing',
      states: {
        choosing: {
          tags: 'waiting',
          on: {
            PROVIDER_CHOSEN: {
              guard: 'linkedProvider',
              target: '#login.redirectingUpstream',
              // A fresh sign-in: an IdP session of the person standing at this browser proves nothing.
              actions: assign({ providerId: ({ event }) => event.providerId, upstream: undefined, prompt: ({ context }) => [...new Set([...context.prompt.filter((p) => p !== 'none'), 'login'])] }),
            },
            CANCEL: { target: '#login.cancelling' },
          },
        },
        verifying: {
          tags: 'busy',
          invoke: {
            src: 'confirmLink',
            input: ({ context }) => ({
              pending: { providerId: context.pendingLink!.providerId, mapped: context.pendingLink!.mapped },
              reauth: { providerId: context.providerId!, mapped: context.mapped! },
              userId: context.pendingLink!.user.id,
            }),
            // Signed in with the identity that started the login (its upstream session is the one recorded).
            onDone: {
              target: '#login.signingIn',
              actions: assign({
                user: ({ event }) => event.output,
                providerId: ({ context }) => context.pendingLink!.providerId,
                assertion: ({ context }) => context.pendingLink!.assertion,
                mapped: undefined,
                pendingLink: undefined,
              }),
            },
            onError: { target: '#login.failed', actions: [assign({ pendingLink: undefined, assertion: undefined, mapped: undefined }), { type: 'fail', params: ({ event }) => ({ error: event.error }) }] },
          },
        },
      },
    },
    linking: {
      tags: 'busy',
      invoke: {
        src: 'linkIdentity',
        input: ({ context }) => ({ providerId: context.providerId!, mapped: context.mapped! }),
        onDone: [
          {
            guard: ({ event }) => event.output.outcome === 'signed_in',
            target: 'confirmingOrSigningIn',
            actions: assign({ user: ({ event }) => (event.output.outcome === 'signed_in' ? event.output.user : undefined) }),
          },
          {
            guard: ({ event }) => event.output.outcome === 'confirm',
            target: 'confirmingLink',
            actions: assign({
              pendingLink: ({ context, event }) =>
                event.output.outcome === 'confirm' ? { providerId: context.providerId!, mapped: context.mapped!, assertion: context.assertion, user: event.output.user, providerIds: event.output.providerIds } : undefined,
              assertion: undefined,
              mapped: undefined,
            }),
          },
          {
            target: 'registering',
            actions: assign({
              registration: ({ event }) => (event.output.outcome === 'register' && event.output.suggestion ? { suggestion: event.output.suggestion, fixed: event.output.fixed === true } : {}),
            }),
          },
        ],
        onError: { target: 'failed', actions: { type: 'fail', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    registering: {
      initial: 'choosing',
      states: {
        choosing: {
          tags: 'waiting',
          on: {
            FORM_SUBMITTED: {
              guard: 'validForm',
              target: 'checking',
              actions: assign({
                registration: ({ context, event }) => ({ ...context.registration, value: event.localpart, displayname: event.displayname, error: undefined }),
              }),
            },
            CANCEL: { target: '#login.cancelling' },
          },
        },
        checking: {
          tags: 'busy',
          invoke: {
            src: 'registerAccount',
            input: ({ context }) => ({
              providerId: context.providerId!,
              mapped: context.mapped!,
              localpart: context.registration!.value!,
              displayname: context.registration!.displayname,
            }),
            onDone: [
              {
                guard: ({ event }) => event.output.ok,
                target: '#login.confirmingOrSigningIn',
                actions: assign({ user: ({ event }) => (event.output.ok ? event.output.user : undefined), registration: undefined }),
              },
              {
                target: 'choosing',
                actions: assign({ registration: ({ context, event }) => ({ ...context.registration, error: event.output.ok ? undefined : event.output.error }) }),
              },
            ],
            onError: { target: '#login.failed', actions: { type: 'fail', params: ({ event }) => ({ error: event.error }) } },
          },
        },
      },
    },
    // Then the terms of service (below), then the session: an account is confirmed before anything is recorded for it.
    confirmingOrSigningIn: {
      always: [{ guard: 'unsolicited', target: 'confirming' }, { target: 'terms' }],
    },
    /** IdP-initiated sign-ins only: the person confirms the account before a session exists. */
    confirming: {
      tags: 'waiting',
      on: {
        CONFIRMED: { target: 'terms' },
        CANCEL: { target: 'cancelling' },
      },
    },
    // The operator's terms of service: asked at sign-up, and again when their version changed.
    terms: {
      initial: 'checking',
      states: {
        checking: {
          tags: 'busy',
          invoke: {
            src: 'checkTerms',
            input: ({ context }) => ({ user: context.user! }),
            onDone: [
              {
                guard: ({ context, event }) => event.output.needed && context.prompt.includes('none'),
                target: '#login.failed',
                actions: assign({ failure: { kind: 'oauth', code: 'interaction_required', reason: 'terms_not_accepted' } as LoginFailure }),
              },
              { guard: ({ event }) => event.output.needed, target: 'asking', actions: assign({ terms: ({ event }) => ({ changed: event.output.changed }) }) },
              { target: '#login.termsSettled' },
            ],
            onError: { target: '#login.failed', actions: { type: 'fail', params: ({ event }) => ({ error: event.error }) } },
          },
        },
        asking: {
          tags: 'waiting',
          on: {
            TERMS_ACCEPTED: { target: 'recording' },
            CANCEL: { target: '#login.cancelling' },
          },
        },
        recording: {
          tags: 'busy',
          invoke: {
            src: 'acceptTerms',
            input: ({ context }) => ({ user: context.user! }),
            onDone: { target: '#login.termsSettled', actions: assign({ terms: undefined }) },
            onError: { target: '#login.failed', actions: { type: 'fail', params: ({ event }) => ({ error: event.error }) } },
          },
        },
      },
    },
    // A reused browser session goes on to consent; a fresh sign-in starts its session first.
    termsSettled: {
      always: [{ guard: 'hasSession', target: 'consenting' }, { target: 'signingIn' }],
    },
    signingIn: {
      tags: 'busy',
      invoke: {
        src: 'startSession',
        input: ({ context }) => ({ user: context.user!, providerId: context.providerId!, assertion: context.assertion, userAgent: context.userAgent, ip: context.ip }),
        // The assertion is recorded with the upstream session now; the snapshot no longer needs it.
        onDone: { target: 'consenting', actions: assign({ browserSession: ({ event }) => event.output, newBrowserSession: true, assertion: undefined, mapped: undefined }) },
        onError: { target: 'failed', actions: { type: 'fail', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    consenting: {
      initial: 'checking',
      states: {
        checking: {
          tags: 'busy',
          invoke: {
            src: 'checkConsent',
            input: ({ context }) => ({ target: context.target, user: context.user! }),
            onDone: [
              {
                guard: ({ context, event }) => event.output.needed && context.prompt.includes('none'),
                target: '#login.failed',
                actions: assign({ failure: { kind: 'oauth', code: 'consent_required', reason: 'consent_required' } as LoginFailure }),
              },
              { guard: ({ event }) => event.output.needed, target: 'asking' },
              { target: '#login.completing' },
            ],
            onError: { target: '#login.failed', actions: { type: 'fail', params: ({ event }) => ({ error: event.error }) } },
          },
        },
        asking: {
          tags: 'waiting',
          on: {
            CONSENT_GIVEN: { target: '#login.completing', actions: assign({ consentGiven: true }) },
            CANCEL: { target: '#login.cancelling' },
          },
        },
      },
    },
    completing: {
      tags: 'busy',
      invoke: {
        src: 'completeLogin',
        input: ({ context }) => ({ target: context.target, user: context.user!, browserSession: context.browserSession!, consentGiven: context.consentGiven === true }),
        onDone: { target: 'completed', actions: assign({ redirectUrl: ({ event }) => event.output.redirectUrl }) },
        onError: { target: 'failed', actions: { type: 'fail', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    cancelling: {
      tags: 'busy',
      invoke: {
        src: 'rejectLogin',
        input: ({ context }) => ({ target: context.target }),
        onDone: { target: 'failed', actions: 'denied' },
        onError: { target: 'failed', actions: 'denied' },
      },
    },
    completed: { type: 'final' },
    failed: { type: 'final' },
    expired: { type: 'final' },
  },
});

export type LoginMachine = typeof loginMachine;

/** The top-level state name of a snapshot value (e.g. `consenting` for `{ consenting: 'asking' }`). */
export function topState(value: unknown): string {
  return typeof value === 'string' ? value : Object.keys(value as object)[0]!;
}
/** `consenting.asking`, `registering.choosing`, `selectingProvider`, … */
export function statePath(value: unknown): string {
  if (typeof value === 'string') return value;
  const [k, v] = Object.entries(value as Record<string, unknown>)[0]!;
  return `${k}.${statePath(v)}`;
}
