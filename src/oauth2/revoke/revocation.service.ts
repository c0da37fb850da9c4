import { Injectable } from '@nestjs/common';
import { parseToken, sha256Hex } from '../../crypto/token-format.js';
import { SessionEnder } from '../sessions/session-ender.js';

/**
 * RFC 7009 as the Matrix spec profiles it (docs/contracts/matrix-clients.md §7): revoking any
 * live token of a session ends the session (access and refresh tokens together, the device leaves
 * the homeserver). Compat tokens (`mct_`/`mcr_`, the `/login` layer) end their compat session; a
 * personal access token (`mpt_`) ends its personal session. The
 * token is looked up as whatever it is, whatever the hint says; unknown, malformed or already
 * revoked tokens change nothing and are not an error.
 */
@Injectable()
export class RevocationService {
  constructor(private readonly ender: SessionEnder) {}

  /** Returns whether a session was ended. */
  async revoke(token: string): Promise<boolean> {
    const kind = parseToken(token);
    if (!kind) return false;
    // A personal access token is stored as an access token of its (personal) session.
    return this.ender.revokeToken({ kind: kind === 'personal' ? 'access' : kind, hash: sha256Hex(token) });
  }
}
