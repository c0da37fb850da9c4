import { Global, Module, type DynamicModule } from '@nestjs/common';
import { BrandingAssetsController } from './branding/branding-assets.controller.js';
import { CsrfService } from './csrf.service.js';
import { LanguageController } from './language.controller.js';
import { PAGE_SETUP, PageRenderer } from './page-renderer.js';
import type { PageSetup } from './page-setup.js';

/** Page infrastructure every module with pages uses: templates in the request's language, branding, CSRF tokens. */
@Global()
@Module({})
export class WebModule {
  static forRoot(setup: PageSetup): DynamicModule {
    return {
      module: WebModule,
      controllers: [LanguageController, BrandingAssetsController],
      providers: [{ provide: PAGE_SETUP, useValue: setup }, PageRenderer, CsrfService],
      exports: [PAGE_SETUP, PageRenderer, CsrfService],
    };
  }
}
