import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import { AvatarSetter, type AvatarToSet } from '../../events/avatar-setter.js';
import { HomeserverAdapter, HomeserverError } from '../../homeserver/homeserver.adapter.js';
import { MetricsService } from '../../health/metrics.service.js';
import { LOGGER } from '../../http/logger.module.js';
import { fetchAvatar } from './avatar-fetch.js';
import { avatarFilename, AvatarSkipped, decodeBase64Image, isAvatarUrl, type AvatarImage } from './avatar-image.js';
import { Database } from '../../storage/database.service.js';
import { UserRepository } from '../../storage/repositories/user.repository.js';
import { PERSONAL_CLIENT_ID } from '../personal/personal-tokens.service.js';
import { API_SCOPE } from '../scopes/scope.js';
import { SessionEnder } from '../sessions/session-ender.js';
import { TokenIssuer } from '../token/token-issuer.js';

/** The grant recorded for the one-minute session an avatar upload runs in. */
export const AVATAR_UPLOAD_GRANT = 'avatar_upload';
const UPLOAD_TOKEN_TTL_MS = 60_000;

/**
 * Sets the avatar an IdP gave, when the event bus delivers its `user.avatar` row (after the row
 * that provisioned the account). The image is fetched (URL) or decoded (base64) and checked
 * (size, type by magic bytes; for URLs: https, public addresses, timeout, redirects — see
 * avatar-fetch.ts), uploaded to the homeserver's media repository **as the user** with an access
 * token minted for that upload alone (a deviceless session of grant `avatar_upload`, the Matrix API
 * scope, one minute, ended right after), then set with `provision_user` `set_avatar_url`
 * (synapse-mas) or the admin API (synapse-admin). An image that cannot be used is skipped with a
 * log line and `causeway_avatar_imports_total{outcome="skipped",reason}`; only a transient
 * homeserver failure is retried (by the bus). None of this is on a sign-in's path.
 */
@Injectable()
export class AvatarUploader extends AvatarSetter {
  private readonly imports: Counter<'outcome' | 'reason'>;
  private readonly log: Logger;

  constructor(
    private readonly db: Database,
    private readonly issuer: TokenIssuer,
    private readonly ender: SessionEnder,
    private readonly users: UserRepository,
    private readonly homeserver: HomeserverAdapter,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) logger: Logger,
    metrics: MetricsService,
  ) {
    super();
    this.log = logger.child({ component: 'avatar' });
    this.imports = metrics.counter('causeway_avatar_imports_total', 'Avatars from upstream IdPs: set, or skipped with the reason (too_large, not_an_image, private_address, …)', ['outcome', 'reason']);
  }

  async set(localpart: string, avatar: AvatarToSet): Promise<void> {
    try {
      if (this.config.matrix.api === 'none') throw new AvatarSkipped('no_media_repository', 'matrix.api is none');
      const image = isAvatarUrl(avatar.source)
        ? await fetchAvatar(avatar.source, { maxBytes: avatar.maxBytes, timeoutMs: avatar.timeoutMs, devMode: this.config.dev_mode })
        : decodeBase64Image(avatar.source, avatar.maxBytes);
      const mxc = await this.uploadAsUser(localpart, image);
      await this.homeserver.setAvatarUrl(localpart, mxc);
      this.imports.inc({ outcome: 'set', reason: '' });
      this.log.info({ localpart, provider: avatar.providerId, bytes: image.bytes.length, content_type: image.contentType, mxc }, 'avatar set');
    } catch (err) {
      const skipped = err instanceof AvatarSkipped ? err : err instanceof HomeserverError && !err.transient ? new AvatarSkipped('homeserver_refused', err.message) : undefined;
      if (!skipped) throw err;
      this.imports.inc({ outcome: 'skipped', reason: skipped.reason });
      this.log.warn({ localpart, provider: avatar.providerId, reason: skipped.reason, detail: skipped.message }, 'avatar skipped');
    }
  }

  private async uploadAsUser(localpart: string, image: AvatarImage): Promise<string> {
    const user = await this.users.findByLocalpart(localpart);
    if (!user) throw new AvatarSkipped('homeserver_refused', 'the account is gone');
    const now = Date.now();
    const { sessionId, token } = await this.db.transaction(async (em) => {
      const { session } = await this.issuer.startSession(em, { userId: user.id, clientId: PERSONAL_CLIENT_ID, scope: [API_SCOPE.stable], grantType: AVATAR_UPLOAD_GRANT, humanName: 'Avatar upload' }, now);
      const tokens = await this.issuer.issue(em, session, { refresh: false, grant: AVATAR_UPLOAD_GRANT, personal: { expiresAt: now + UPLOAD_TOKEN_TTL_MS } }, now);
      return { sessionId: session.id, token: tokens.accessToken };
    });
    try {
      return await this.homeserver.uploadMedia(token, { ...image, filename: avatarFilename(image.contentType) });
    } finally {
      await this.db
        .transaction((em) => this.ender.end(em, [sessionId], 'revoked', 'system:avatar'))
        .catch((e: unknown) => this.log.warn({ err: e }, 'avatar upload session not ended (its token expires within a minute)'));
      this.ender.committed();
    }
  }
}
