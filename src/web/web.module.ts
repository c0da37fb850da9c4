import { Global, Module } from '@nestjs/common';
import { CsrfService } from './csrf.service.js';
import { PageRenderer } from './page-renderer.js';

/** Page infrastructure every module with pages uses: templates and CSRF tokens. */
@Global()
@Module({ providers: [PageRenderer, CsrfService], exports: [PageRenderer, CsrfService] })
export class WebModule {}
