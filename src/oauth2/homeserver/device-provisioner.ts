import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { HomeserverAdapter, HomeserverError } from '../../homeserver/homeserver.adapter.js';
import { LOGGER } from '../../http/logger.module.js';
import { OAuth2RefusalError } from '../refusal.error.js';

/** Pauses between attempts while the homeserver fails transiently (bounded: the user is waiting). */
const RETRY_DELAYS_MS = [200, 800, 2000];

/**
 * Synapse only accepts tokens of users and devices it already knows (docs/contracts/synapse.md
 * §2.3), so the user and the device are created there before any code or token is handed out.
 */
@Injectable()
export class DeviceProvisioner {
  constructor(
    private readonly homeserver: HomeserverAdapter,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Provisions the user and upserts the device; an OAuth2RefusalError if the homeserver stays unreachable or refuses. */
  async ensure(localpart: string, deviceId: string | undefined): Promise<void> {
    try {
      await this.withRetries(() => this.homeserver.provisionUser({ localpart }));
      if (deviceId) await this.withRetries(() => this.homeserver.upsertDevice(localpart, deviceId));
    } catch (e) {
      this.logger.warn({ err: e, localpart }, 'homeserver provisioning failed');
      const transient = !(e instanceof HomeserverError) || e.transient;
      throw new OAuth2RefusalError(
        transient ? 'homeserver_provisioning_transient' : 'homeserver_provisioning_refused',
        {},
        {
          reason: 'homeserver_provisioning',
          status: e instanceof HomeserverError ? e.status : undefined,
        },
      );
    }
  }

  /**
   * At token issuance: the device was created when the code was issued, but a sign-out elsewhere
   * (a `devices.sync` computed before this session existed) may have removed it since. Upserting
   * again right after the session commits makes sure the homeserver knows the device when the
   * client gets its tokens (MAS calls upsert_device at this point). Throws the homeserver's error.
   */
  async reaffirmDevice(localpart: string, deviceId: string): Promise<void> {
    await this.withRetries(() => this.homeserver.upsertDevice(localpart, deviceId), 1);
  }

  private async withRetries<T>(call: () => Promise<T>, retries = RETRY_DELAYS_MS.length): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (e) {
        const transient = !(e instanceof HomeserverError) || e.transient;
        if (!transient || attempt >= retries) throw e;
        await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[attempt]));
      }
    }
  }
}
