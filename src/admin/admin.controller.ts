import { Body, Controller, Get, HttpCode, Param, Post, Query, UseFilters, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { EventBus } from '../events/event-bus.service.js';
import { AdminErrorFilter, badRequest, notFound } from './admin-error.js';
import { AdminGuard } from './admin.guard.js';
import { AdminService } from './admin.service.js';

const deactivateBody = z.object({ erase: z.boolean().default(true) }).strict();
const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100), after: z.coerce.number().int().min(0).default(0) }).strict();
const idParam = z.coerce.number().int().min(1);

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw badRequest(r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  return r.data;
}

/** /api/admin/v1: account actions and the event bus. Bearer admin token; JSON in and out; every action audited. */
@Controller('api/admin/v1')
@UseGuards(AdminGuard)
@UseFilters(AdminErrorFilter)
export class AdminController {
  constructor(
    private readonly admin: AdminService,
    private readonly bus: EventBus,
  ) {}

  @Get('users/:user')
  async user(@Param('user') ref: string) {
    return this.admin.view(await this.admin.findUser(ref));
  }

  /** Body `{"erase": bool}` (default true): also ask the homeserver to erase the profile. */
  @Post('users/:user/deactivate')
  @HttpCode(200)
  deactivate(@Param('user') ref: string, @Body() body: unknown) {
    return this.admin.deactivateUser(ref, parse(deactivateBody, body).erase);
  }

  @Post('users/:user/lock')
  @HttpCode(200)
  lock(@Param('user') ref: string) {
    return this.admin.lock(ref);
  }

  @Post('users/:user/unlock')
  @HttpCode(200)
  unlock(@Param('user') ref: string) {
    return this.admin.unlock(ref);
  }

  /** Signs the user out everywhere. */
  @Post('users/:user/sessions/end')
  @HttpCode(200)
  async endAll(@Param('user') ref: string) {
    return { ended: await this.admin.endAllSessions(ref) };
  }

  @Post('sessions/:id/end')
  @HttpCode(200)
  async endSession(@Param('id') id: string) {
    return { ended: await this.admin.endSession(id) };
  }

  /** Depth, oldest undelivered age, dead letters, per-shard depth. */
  @Get('events/status')
  status() {
    return this.bus.status();
  }

  @Get('events/dead-letters')
  async deadLetters(@Query() query: unknown) {
    const q = parse(listQuery, query);
    const rows = await this.bus.deadLetters(q.limit, q.after);
    return {
      data: rows.map((r) => ({
        id: r.id,
        user: r.userKey,
        kind: r.kind,
        payload: r.payload,
        created_at: r.createdAt,
        dead_at: r.deadAt,
        attempts: r.attempts,
        last_error: r.lastError,
      })),
      next_after: rows.length === q.limit ? rows[rows.length - 1]!.id : null,
    };
  }

  @Post('events/dead-letters/:id/replay')
  @HttpCode(200)
  async replayOne(@Param('id') id: string) {
    const rowId = parse(idParam, id);
    const replayed = await this.bus.replay([rowId]);
    if (!replayed.length) throw notFound('dead letter');
    await this.admin.auditEvent('events.dead_letter.replay', String(rowId), { ids: replayed });
    return { replayed };
  }

  /** Replays every dead letter (up to 1000 per call). */
  @Post('events/dead-letters/replay')
  @HttpCode(200)
  async replayAll() {
    const rows = await this.bus.deadLetters(1000);
    const replayed = await this.bus.replay(rows.map((r) => r.id));
    if (replayed.length) await this.admin.auditEvent('events.dead_letter.replay', 'all', { ids: replayed });
    return { replayed };
  }
}
