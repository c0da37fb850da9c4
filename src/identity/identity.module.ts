import { Module } from '@nestjs/common';
import { BrowserSessionsService } from './browser-sessions.service.js';
import { IdentityLinker } from './identity-linker.service.js';
import { UpstreamLinksService } from './upstream-links.service.js';
import { UsersService } from './users.service.js';

/** Users, upstream links, browser and upstream sessions, localpart policy. */
@Module({
  providers: [UsersService, UpstreamLinksService, BrowserSessionsService, IdentityLinker],
  exports: [UsersService, UpstreamLinksService, BrowserSessionsService, IdentityLinker],
})
export class IdentityModule {}
