import { Module } from '@nestjs/common';
import { OAuth2Module } from '../oauth2/oauth2.module.js';
import { AccountDeactivator } from './account-deactivator.js';
import { BrowserSessionsService } from './browser-sessions.service.js';
import { IdentityLinker } from './identity-linker.service.js';
import { UpstreamLinksService } from './upstream-links.service.js';
import { UserLifecycle } from './user-lifecycle.service.js';
import { TermsService } from './terms.service.js';
import { UsersService } from './users.service.js';

/**
 * Users (and their emails), upstream links, browser and upstream sessions, localpart policy, and an
 * account's life (UserLifecycle: create, lock, deactivate, reactivate, admin right, display name),
 * which ends sessions through OAuth2Module's SessionTerminator.
 */
@Module({
  imports: [OAuth2Module],
  providers: [UsersService, UpstreamLinksService, BrowserSessionsService, IdentityLinker, UserLifecycle, TermsService, { provide: AccountDeactivator, useExisting: UserLifecycle }],
  exports: [UsersService, UpstreamLinksService, BrowserSessionsService, IdentityLinker, UserLifecycle, TermsService, AccountDeactivator],
})
export class IdentityModule {}
