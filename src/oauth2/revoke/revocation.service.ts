import { Injectable } from '@nestjs/common';
import { parseToken, sha256Hex } from '../../crypto/token-format.js';
import { Database } from '../../storage/database.service.js';
import { AccessTokenEntity, RefreshTokenEntity } from '../../storage/entities/index.js';
import { SessionTerminator } from '../oauth2.contracts.js';

/**
 * RFC 7009 as the Matrix spec profiles it (contracts/matrix-oauth-client-api.md §7): revoking any
 * live token of a session ends the session (access and refresh tokens together, the device leaves
 * the homeserver). The token is looked up as whatever it is, whatever the hint says; unknown,
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
}
