import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CsrfService } from '../web/csrf.service.js';
import { parseForm } from '../web/form.js';
import { requireBoundLogin } from './login-binding.js';
import type { LoginEvent } from './login.machine.js';
import { LoginPages } from './login.pages.js';
import { LoginNotFoundError, LoginStore } from './login.store.js';

const providerForm = z.object({ provider: z.string().min(1).max(64) });
const registerForm = z.object({ localpart: z.string().max(255), displayname: z.string().max(256).optional() });
const consentForm = z.object({ decision: z.enum(['allow', 'deny']) });
const termsForm = z.object({ accept: z.literal('yes') });

/**
 * The pages of one login (`/login/{id}`): GET shows the step the login waits in; each POST is one
 * machine event (CSRF token bound to the login id), answered with a redirect (POST/redirect/GET).
 */
@Controller('login')
export class LoginController {
  constructor(
    private readonly store: LoginStore,
    private readonly pages: LoginPages,
    private readonly csrf: CsrfService,
  ) {}

  @Get(':loginId')
  async show(@Param('loginId') loginId: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    requireBoundLogin(req, loginId);
    const snap = await this.store.load(loginId);
    if (!snap) throw new LoginNotFoundError();
    await this.pages.respond(req, reply, snap, false);
  }

  @Post(':loginId/provider')
  async chooseProvider(@Param('loginId') loginId: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const { provider } = this.form(req, loginId, providerForm);
    await this.send(req, reply, loginId, { type: 'PROVIDER_CHOSEN', providerId: provider });
  }

  @Post(':loginId/register')
  async register(@Param('loginId') loginId: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const { localpart, displayname } = this.form(req, loginId, registerForm);
    await this.send(req, reply, loginId, { type: 'FORM_SUBMITTED', localpart: localpart.trim(), ...(displayname !== undefined ? { displayname } : {}) });
  }

  @Post(':loginId/terms')
  async acceptTerms(@Param('loginId') loginId: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    this.form(req, loginId, termsForm);
    await this.send(req, reply, loginId, { type: 'TERMS_ACCEPTED' });
  }

  @Post(':loginId/consent')
  async consent(@Param('loginId') loginId: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const { decision } = this.form(req, loginId, consentForm);
    await this.send(req, reply, loginId, decision === 'allow' ? { type: 'CONSENT_GIVEN' } : { type: 'CANCEL' });
  }

  /** "Continue as …?" after an IdP-initiated sign-in. */
  @Post(':loginId/confirm')
  async confirm(@Param('loginId') loginId: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const { decision } = this.form(req, loginId, consentForm);
    await this.send(req, reply, loginId, decision === 'allow' ? { type: 'CONFIRMED' } : { type: 'CANCEL' });
  }

  @Post(':loginId/cancel')
  async cancel(@Param('loginId') loginId: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    this.form(req, loginId, z.object({}));
    await this.send(req, reply, loginId, { type: 'CANCEL' });
  }

  private form<S extends z.ZodType>(req: FastifyRequest, loginId: string, schema: S): z.infer<S> {
    requireBoundLogin(req, loginId);
    this.csrf.verify(req, loginId);
    return parseForm(schema, req.body);
  }

  private async send(req: FastifyRequest, reply: FastifyReply, loginId: string, event: LoginEvent) {
    const snap = await this.store.send(loginId, event);
    await this.pages.respond(req, reply, snap, true);
  }
}
