import 'reflect-metadata';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import type { GatewayConfig } from './config/config.schema.js';
import { AppModule } from './app.module.js';
import { openDataSource, runMigrations } from './storage/data-source.js';
import { connectRedis } from './storage/redis.js';
import { DEV_DATA_DIR, loadKeyStore } from './crypto/load-key-store.js';
import { PinoNestLogger } from './http/logger.js';
import { currentRequest } from './http/request-context.js';
import { fastifyOptions, setupHttp } from './http/http.setup.js';
import { ProtocolErrorFilter } from './errors/error.filter.js';
import { installRawRoutes } from './raw-routes.js';
import { PageRenderer } from './web/page-renderer.js';
import { PageSetupError, preparePages } from './web/page-setup.js';
import { checkTemplates } from './web/templates-check.js';
import { MetricsService } from './health/metrics.service.js';
import { HealthRegistry } from './health/health.registry.js';
import { startMetricsListener } from './health/metrics-listener.js';
import { clockFor, OffsetFileClock } from './clock/clock.js';

export interface RunningServer {
  app: NestFastifyApplication;
  url: string;
  /** Graceful stop: readiness fails, in-flight requests finish, modules release what they hold, connections close. */
  close(): Promise<void>;
}

/** Dev mode only: where generated keys live when the config names none. */
const DEV_DIR = DEV_DATA_DIR;

function devEncryptionKey(): string {
  const file = `${DEV_DIR}/encryption.key`;
  if (!existsSync(file)) {
    mkdirSync(DEV_DIR, { recursive: true });
    writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}

export async function startServer(config: GatewayConfig, logger: Logger): Promise<RunningServer> {
  // First: a broken template override, catalog or branding file stops the start-up with the file and line.
  const pages = preparePages(config);
  for (const w of pages.warnings) logger.warn(w);
  if (config.templates.path) {
    const report = await checkTemplates(pages, config.templates.path);
    if (report.problems.length) throw new PageSetupError(report.problems);
    logger.info({ path: config.templates.path, pages: report.rendered }, 'template override checked');
  }
  const dataSource = await openDataSource({ url: config.database.url, schema: config.database.schema, pool_size: config.database.pool_size, mapped_reads: true });
  if (config.database.migrate_on_start) {
    const applied = await runMigrations(dataSource);
    if (applied.length) logger.info({ applied }, 'database migrated');
  }
  const redis = config.redis ? connectRedis(config.redis.url, 'causeway') : null;

  const keys = await loadKeyStore(config);
  const encryptionKey = config.secrets.encryption_key ?? devEncryptionKey();
  if (config.dev_mode) logger.warn('dev_mode is on: dev sign-in, generated keys and inline secrets are enabled. Never use it in production.');
  const clock = clockFor(config.dev_mode);
  if (clock instanceof OffsetFileClock) logger.warn({ file: clock.file }, 'test clock armed: lifecycle decisions use the time offset written in this file (tests only)');

  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot({
      config,
      storage: { dataSource, databaseUrl: config.database.url, redis, redisPrefix: config.redis?.key_prefix ?? 'causeway:', now: () => clock.now(), auditOrigin: currentRequest },
      keys,
      encryptionKey,
      logger,
      pages,
      clock,
    }),
    new FastifyAdapter(fastifyOptions({ bodyLimit: config.http.body_limit, trustProxy: config.http.trust_proxy, logger })),
    { logger: new PinoNestLogger(logger.child({ component: 'nest' })), bufferLogs: false },
  );
  const renderer = app.get(PageRenderer);
  await setupHttp(app.getHttpAdapter().getInstance(), {
    cookieSecret: encryptionKey,
    logger,
    metrics: app.get(MetricsService),
    redis,
    redisPrefix: config.redis?.key_prefix,
  });
  app.useGlobalFilters(new ProtocolErrorFilter(renderer, logger));
  installRawRoutes(app);

  const [host, port] = splitListen(config.http.listen);
  await app.listen(port, host);
  const metricsServer = config.http.metrics_listen ? await startMetricsListener(app.get(MetricsService), ...splitListen(config.http.metrics_listen)) : undefined;
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  logger.info({ listen: url, issuer: config.http.public_base }, 'causeway is listening');

  let closing: Promise<void> | undefined;
  return {
    app,
    url,
    close() {
      closing ??= (async () => {
        app.get(HealthRegistry).markShuttingDown();
        await app.close();
        await new Promise((resolve) => (metricsServer ? metricsServer.close(resolve) : resolve(undefined)));
        await redis?.quit().catch(() => redis.disconnect());
        await dataSource.destroy();
      })();
      return closing;
    },
  };
}

function splitListen(listen: string): [string, number] {
  const i = listen.lastIndexOf(':');
  return [listen.slice(0, i).replace(/^\[|\]$/g, ''), Number(listen.slice(i + 1))];
}
