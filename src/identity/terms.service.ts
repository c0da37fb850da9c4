import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { TermsRepository } from '../storage/repositories/terms.repository.js';

export interface TermsStatus {
  /** The person must accept the current terms before the sign-in goes on. */
  needed: boolean;
  /** They accepted an earlier version (the page says the terms changed). */
  changed: boolean;
}

/**
 * The operator's terms of service (`branding.tos_uri`, versioned by `branding.tos_version`): an
 * account records the version it accepted; a sign-in asks again when that is not the current one.
 * Without `tos_uri` nothing is asked and nothing is read.
 */
@Injectable()
export class TermsService {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly terms: TermsRepository,
  ) {}

  /** The version accounts must have accepted, if the operator has terms. */
  get currentVersion(): string | undefined {
    const b = this.config.branding;
    return b.tos_uri ? (b.tos_version ?? b.tos_uri) : undefined;
  }

  async status(userId: string): Promise<TermsStatus> {
    const current = this.currentVersion;
    if (!current) return { needed: false, changed: false };
    const accepted = await this.terms.acceptedVersion(userId);
    return { needed: accepted !== current, changed: accepted !== null && accepted !== current };
  }

  async accept(userId: string): Promise<void> {
    const current = this.currentVersion;
    if (current) await this.terms.accept(userId, current);
  }
}
