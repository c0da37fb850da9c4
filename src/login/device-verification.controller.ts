import { Controller, Get, Inject, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { DeviceGrantDecider } from '../oauth2/oauth2.contracts.js';
import { OAUTH2_PATHS } from '../oauth2/oauth2.paths.js';
import { bindLogin } from '../web/cookies.js';
import { CsrfService } from '../web/csrf.service.js';
import { parseForm, singleValues } from '../web/form.js';
import { LoginPages } from './login.pages.js';
import { LoginService } from './login.service.js';
import { msg, type Msg } from '../web/i18n/message.js';

/** The RFC 8628 verification page: the `verification_uri` the OAuth module advertises. */
const DEVICE_VERIFICATION_PATH = OAUTH2_PATHS.deviceVerification;
const CSRF_SCOPE = 'device-code';

const codeForm = z.object({ code: z.string().trim().min(1).max(32) });

/**
 * The device-code verification page: the user enters the code shown on the new device
 * (case-insensitive, dashes optional), signs in, then confirms client, device id and code on the
 * consent step (Deny ⇒ access_denied for the polling device).
 */
@Controller(DEVICE_VERIFICATION_PATH)
export class DeviceVerificationController {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly logins: LoginService,
    private readonly pages: LoginPages,
    private readonly csrf: CsrfService,
    private readonly devices: DeviceGrantDecider,
  ) {}

  /** `?code=` (verification_uri_complete) only pre-fills the form: the user still submits it. */
  @Get()
  async show(@Query() query: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const code = (singleValues(query).code ?? '').slice(0, 32);
    await this.form(req, reply, 200, code);
  }

  @Post()
  async submit(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    this.csrf.verify(req, CSRF_SCOPE);
    const { code } = parseForm(codeForm, req.body);
    if (!this.config.policy.device_code_grant) return this.form(req, reply, 404, code);
    const device = await this.devices.find(code);
    if (!device) return this.form(req, reply, 400, code, msg('device_code.invalid'));
    const snap = await this.logins.startDevice(device, req);
    bindLogin(req, reply, this.config, snap.context.loginId);
    await this.pages.respond(req, reply, snap, true);
  }

  private form(req: FastifyRequest, reply: FastifyReply, status: number, code: string, error?: Msg) {
    if (!this.config.policy.device_code_grant) {
      return this.pages.page(reply, 'error', 404, { title: msg('error.title.not_available'), message: msg('error.device_code_off') });
    }
    return this.pages.page(reply, 'device-code', status, {
      csrf: this.csrf.token(req, reply, CSRF_SCOPE),
      action: `${this.config.http.public_base}${DEVICE_VERIFICATION_PATH}`,
      code,
      error,
    });
  }
}
