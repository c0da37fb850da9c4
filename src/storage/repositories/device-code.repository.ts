import { MoreThan } from 'typeorm';
import type { Database, Tx } from '../database.service.js';
import { DeviceCodeEntity } from '../entities/index.js';
import type { DeviceCodeState } from '../entities/device-code.entity.js';

export type { DeviceCodeState };

/** An RFC 8628 device authorization: the device code (by its SHA-256), the user code, and its state. */
export interface DeviceCodeRecord {
  id: string;
  deviceCodeHash: string;
  /** Normalised (no separator). */
  userCode: string;
  clientId: string;
  /** Space-separated, as requested. */
  scope: string;
  state: DeviceCodeState;
  userId: string | null;
  browserSessionId: string | null;
  sessionId: string | null;
  createdAt: number;
  expiresAt: number;
  lastPolledAt: number | null;
  /** Seconds between polls (grows by 5 on each slow_down). */
  interval: number;
}

const toDeviceCode = (e: DeviceCodeEntity): DeviceCodeRecord => ({
  id: e.id,
  deviceCodeHash: e.device_code_hash,
  userCode: e.user_code,
  clientId: e.client_id,
  scope: e.scope,
  state: e.state,
  userId: e.user_id,
  browserSessionId: e.browser_session_id,
  sessionId: e.session_id,
  createdAt: e.created_at,
  expiresAt: e.expires_at,
  lastPolledAt: e.last_polled_at,
  interval: e.interval,
});

/** Device authorizations: started by the device, decided in a browser, exchanged by the device's polling. */
export class DeviceCodeRepository {
  constructor(private readonly db: Database) {}

  async byUserCode(tx: Tx, userCode: string): Promise<DeviceCodeRecord | undefined> {
    const e = await tx.findOneBy(DeviceCodeEntity, { user_code: userCode });
    return e ? toDeviceCode(e) : undefined;
  }

  /** A pending, unexpired authorization by its user code (the verification page's lookup). */
  async pendingByUserCode(userCode: string, now: number): Promise<DeviceCodeRecord | undefined> {
    const e = await this.db.manager.findOneBy(DeviceCodeEntity, { user_code: userCode, state: 'pending', expires_at: MoreThan(now) });
    return e ? toDeviceCode(e) : undefined;
  }

  async byDeviceCodeHash(tx: Tx, hash: string): Promise<DeviceCodeRecord | undefined> {
    const e = await tx.findOneBy(DeviceCodeEntity, { device_code_hash: hash });
    return e ? toDeviceCode(e) : undefined;
  }

  async insert(tx: Tx, d: DeviceCodeRecord): Promise<void> {
    await tx.insert(DeviceCodeEntity, {
      id: d.id,
      device_code_hash: d.deviceCodeHash,
      user_code: d.userCode,
      client_id: d.clientId,
      scope: d.scope,
      state: d.state,
      user_id: d.userId,
      browser_session_id: d.browserSessionId,
      session_id: d.sessionId,
      created_at: d.createdAt,
      expires_at: d.expiresAt,
      last_polled_at: d.lastPolledAt,
      interval: d.interval,
    });
  }

  async delete(tx: Tx, id: string): Promise<void> {
    await tx.delete(DeviceCodeEntity, { id });
  }

  /** A poll at `at`, with the new interval when the device polled too fast. */
  async recordPoll(tx: Tx, id: string, at: number, interval?: number): Promise<void> {
    await tx.update(DeviceCodeEntity, { id }, { last_polled_at: at, ...(interval !== undefined ? { interval } : {}) });
  }

  /**
   * Moves the authorization from state `from` to `to` (with the columns given) unless another
   * request moved it first: whether this call did.
   */
  async transition(tx: Tx, id: string, from: DeviceCodeState, to: DeviceCodeState, set: Partial<Pick<DeviceCodeRecord, 'userId' | 'browserSessionId' | 'lastPolledAt'>> = {}): Promise<boolean> {
    const columns = {
      state: to,
      ...(set.userId !== undefined ? { user_id: set.userId } : {}),
      ...(set.browserSessionId !== undefined ? { browser_session_id: set.browserSessionId } : {}),
      ...(set.lastPolledAt !== undefined ? { last_polled_at: set.lastPolledAt } : {}),
    };
    return !!(await tx.update(DeviceCodeEntity, { id, state: from }, columns)).affected;
  }

  /** Records the session the device code became. */
  async attachSession(tx: Tx, id: string, sessionId: string): Promise<void> {
    await tx.update(DeviceCodeEntity, { id }, { session_id: sessionId });
  }
}
