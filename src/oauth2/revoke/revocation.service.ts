import { Injectable } from '@nestjs/common';
import { parseToken, sha256Hex } from '../../crypto/token-format.js';
import { Database } from '../../storage/database.service.js';
import { AccessTokenEntity, CompatTokenEntity, RefreshTokenEntity } from '../../storage/entities/index.js';
import { SessionTerminator } from '../oauth2.contracts.js';

/**
 * RFC 7009 as the Matrix spec profiles it (contracts/matrix-oauth-client-api.md §7): revoking any
 * live token of a session ends the session (access and refresh tokens together, the device leaves
 * the homeserver). Compat tokens (`mct_`/`mcr_`, the `/login` layer) end their compat session. The token is looked up as whatever it is, whatever the hint says; unknown,
 * malformed or already revoked tokens change nothing and are not an error.
 */
@Injectable()
export class RevocationService {
  constructor(
    private readonly db: Database,
    private readonly terminator: SessionTerminator,
  ) {}

  /** Returns whether a session was ended. */
  async revoke(token: string): Promise<boolean> {
    const kind = parseToken(token);
    if (kind === 'compat_access' || kind === 'compat_refresh') return this.revokeCompat(sha256Hex(token), kind);
    if (kind !== 'access' && kind !== 'refresh') return false;
    const hash = sha256Hex(token);
    const row =
      kind === 'access'
        ? await this.db.manager.findOne(AccessTokenEntity, { where: { token_hash: hash }, select: { session_id: true, revoked_at: true } })
        : await this.db.manager.findOne(RefreshTokenEntity, { where: { token_hash: hash }, select: { session_id: true, revoked_at: true } });
    if (!row || row.revoked_at !== null) return false;
    await this.terminator.endOAuthSession(row.session_id, 'revoked');
    return true;
  }

  /** A compat (`/login`) token: its session ends (both tokens, the device leaves the homeserver). */
  private async revokeCompat(hash: string, kind: 'compat_access' | 'compat_refresh'): Promise<boolean> {
    const row = await this.db.manager.findOne(CompatTokenEntity, {
      where: kind === 'compat_access' ? { access_token_hash: hash } : { refresh_token_hash: hash },
      select: { session_id: true, revoked_at: true },
    });
    if (!row || row.revoked_at !== null) return false;
    return this.terminator.endCompatSession(row.session_id, 'revoked');
  }
}
