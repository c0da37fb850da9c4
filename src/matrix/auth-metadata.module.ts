import { Module } from '@nestjs/common';
import { AuthMetadataController } from './auth-metadata.controller.js';

/** MSC2965 discovery paths served for the homeserver to proxy. */
@Module({ controllers: [AuthMetadataController] })
export class AuthMetadataModule {}
