import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { createActor, waitFor, type SnapshotFrom } from 'xstate';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { LOGGER } from '../http/logger.module.js';
import type { Redis } from 'ioredis';
import { KeyValueStore } from '../storage/kv-store.js';
import { REDIS } from '../storage/storage.module.js';
import { ulid } from '../storage/ulid.js';
import { PageError } from '../web/page-error.js';
import { LoginActors } from './login.actors.js';
import { LoginLock } from './login-lock.js';
import { SignInRecorder } from './sign-in-recorder.js';
import type { Span } from '@opentelemetry/api';
import { inSpan } from '../telemetry/tracer.js';
import { loginMachine, statePath, type LoginEvent, type LoginInput, type LoginMachine } from './login.machine.js';

export type LoginSnapshot = SnapshotFrom<LoginMachine>;

/** How long a finished or expired login stays readable (its result or "expired" page on reload). */
const RETAIN_AFTER_END_S = 3600;
/** Upper bound for one step (an upstream token call, homeserver provisioning with retries); below the lock's TTL. */
const STEP_TIMEOUT_MS = 60_000;

const key = (loginId: string) => `login:${loginId}`;

export class LoginNotFoundError extends PageError {
  constructor() {
    super(400, 'error.title.sign_in_expired', 'error.login_unknown', { reason: 'login_unknown' });
  }
}

export class InvalidLoginEventError extends PageError {
  constructor(state: string, event: string) {
    super(400, 'error.title.step_not_possible', 'error.page_out_of_date', {
      reason: 'invalid_event',
      state,
      event,
    });
  }
}

/**
 * Persistence of login machines (docs/architecture.md, "A login, step by step";
 * docs/decisions/0007-xstate-logins-persisted-per-step.md). Per request:
 * restore the snapshot, check `snapshot.can(event)` (400 page if not), send, wait until no step is
 * running, persist `getPersistedSnapshot()` with a TTL, stop the actor. Only the KeyValueStore
 * (Redis when configured, else the database) holds state, so any replica continues any login.
 */
@Injectable()
export class LoginStore {
  private readonly machine: LoginMachine;
  private readonly lock: LoginLock;

  constructor(
    private readonly kv: KeyValueStore,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(REDIS) redis: Redis | null,
    actors: LoginActors,
    private readonly signIns: SignInRecorder,
  ) {
    this.machine = loginMachine.provide({ actors: actors.implementations() });
    this.lock = new LoginLock(kv, redis !== null);
  }

  /**
   * Starts a login and runs it until it waits for the browser (or ends). It may take
   * `login.ttl`, or less when the caller has a tighter deadline (`ttlSeconds`).
   */
  async create(input: Omit<LoginInput, 'loginId' | 'now' | 'ttlSeconds'> & { ttlSeconds?: number }): Promise<LoginSnapshot> {
    const now = Date.now();
    const ttlSeconds = Math.max(1, Math.min(this.config.login.ttl, input.ttlSeconds ?? Infinity));
    const full: LoginInput = { ...input, loginId: ulid(now), now, ttlSeconds };
    const actor = createActor(this.machine, { input: full });
    return inSpan('login.event START', { 'causeway.login.id': full.loginId }, (span) => this.run(actor, undefined, () => undefined, span));
  }

  /** The login as stored (TIMEOUT applied if it has expired since), or undefined if unknown. */
  async load(loginId: string): Promise<LoginSnapshot | undefined> {
    const snapshot = await this.read(loginId);
    if (snapshot && snapshot.status === 'active' && Date.now() >= snapshot.context.expiresAt) return this.send(loginId, { type: 'TIMEOUT' });
    return snapshot;
  }

  /**
   * Sends one event. An event the current state does not accept is an InvalidLoginEventError
   * (400 page); a login that expired meanwhile gets TIMEOUT instead and comes back `expired`.
   */
  async send(loginId: string, event: LoginEvent): Promise<LoginSnapshot> {
    return inSpan(`login.event ${event.type}`, { 'causeway.login.id': loginId }, (span) => this.sendLocked(loginId, event, span));
  }

  private sendLocked(loginId: string, event: LoginEvent, span?: Span): Promise<LoginSnapshot> {
    return this.lock.run(loginId, async () => {
      const persisted = await this.kv.get(key(loginId));
      if (!persisted) throw new LoginNotFoundError();
      const actor = createActor(this.machine, { snapshot: JSON.parse(persisted), input: undefined as never });
      const snapshot = actor.getSnapshot();
      const effective: LoginEvent = snapshot.status === 'active' && Date.now() >= snapshot.context.expiresAt ? { type: 'TIMEOUT' } : event;
      if (!snapshot.can(effective)) throw new InvalidLoginEventError(statePath(snapshot.value), event.type);
      span?.setAttribute('causeway.login.state_before', statePath(snapshot.value));
      return this.run(actor, snapshot, (a) => a.send(effective), span);
    });
  }

  private async read(loginId: string): Promise<LoginSnapshot | undefined> {
    if (!/^[0-9A-HJKMNP-TV-Z]{26}$/.test(loginId)) return undefined;
    const persisted = await this.kv.get(key(loginId));
    if (!persisted) return undefined;
    try {
      return createActor(this.machine, { snapshot: JSON.parse(persisted), input: undefined as never }).getSnapshot();
    } catch (err) {
      // A snapshot from an incompatible version of the machine: treat the login as gone.
      this.logger.warn({ err, loginId }, 'login snapshot could not be restored');
      return undefined;
    }
  }

  /** Runs one step from `before` (undefined: a new login) until it settles, saves it and records a sign-in outcome. */
  private async run(actor: ReturnType<typeof createActor<LoginMachine>>, before: LoginSnapshot | undefined, act: (a: typeof actor) => void, span?: Span): Promise<LoginSnapshot> {
    actor.start();
    try {
      act(actor);
      let settled: LoginSnapshot;
      try {
        settled = await waitFor(actor, (s) => s.status !== 'active' || !s.hasTag('busy'), { timeout: STEP_TIMEOUT_MS });
      } catch (err) {
        // Not persisted: the stored snapshot stays at the last stable state.
        const crashed = actor.getSnapshot().status === 'error';
        this.logger.error({ err, loginId: actor.getSnapshot().context?.loginId }, crashed ? 'login machine failed' : 'login step did not settle');
        if (crashed) throw new PageError(500, 'error.title.something_went_wrong', 'error.internal', { reason: 'login_machine_error' });
        throw new PageError(503, 'error.title.temporarily_unavailable', 'error.step_timeout', { reason: 'login_step_timeout' });
      }
      span?.setAttribute('causeway.login.state', statePath(settled.value));
      if (settled.context.providerId) span?.setAttribute('causeway.provider', settled.context.providerId);
      await this.persist(settled, actor.getPersistedSnapshot());
      this.logger.debug({ loginId: settled.context.loginId, from: before ? statePath(before.value) : null, to: statePath(settled.value) }, 'login step');
      await this.signIns.settled(before, settled);
      return settled;
    } finally {
      actor.stop();
    }
  }

  private async persist(snapshot: LoginSnapshot, persisted: unknown): Promise<void> {
    const ctx = snapshot.context;
    const stored = structuredClone(persisted) as { context: Record<string, unknown> };
    // The final redirect carries the authorization code: it goes to the browser once, never to storage.
    delete stored.context.redirectUrl;
    // Likewise the session cookie: issued only on the answer to the request that started the session.
    delete stored.context.newBrowserSession;
    const remaining = Math.ceil((ctx.expiresAt - Date.now()) / 1000);
    const ttl = snapshot.status === 'active' ? Math.max(1, remaining) + RETAIN_AFTER_END_S : RETAIN_AFTER_END_S;
    await this.kv.set(key(ctx.loginId), JSON.stringify(stored), ttl);
  }
}
