import { Controller, Get, Header, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { HealthRegistry } from './health.registry.js';
import { MetricsService } from './metrics.service.js';

@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthRegistry,
    private readonly metrics: MetricsService,
  ) {}

  /** The process is alive (event loop turning). Never checks dependencies: a DB outage must not restart pods. */
  @Get('health/live')
  @Header('Cache-Control', 'no-store')
  live() {
    return { status: 'up' };
  }

  /** Ready for traffic: 200 when every component is up or degraded, 503 when one is down. */
  @Get('health/ready')
  @Header('Cache-Control', 'no-store')
  async ready(@Res() reply: FastifyReply) {
    const result = await this.health.run();
    await reply.status(result.status === 'down' ? 503 : 200).send(result);
  }

  @Get('metrics')
  async prometheus(@Res() reply: FastifyReply) {
    await reply.header('Content-Type', this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}
