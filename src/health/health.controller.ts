import { Controller, Get, Header, Inject, NotFoundException, Res } from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import type { FastifyReply } from 'fastify';
import { HealthRegistry } from './health.registry.js';
import { MetricsService } from './metrics.service.js';

@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthRegistry,
    private readonly metrics: MetricsService,
    @Inject(CONFIG) private readonly config: GatewayConfig,
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

  /** Prometheus metrics, unless `http.metrics_listen` moved them to their own port (metrics-listener.ts). */
  @Get('metrics')
  async prometheus(@Res() reply: FastifyReply) {
    if (this.config.http.metrics_listen) throw new NotFoundException();
    await reply.header('Content-Type', this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}
