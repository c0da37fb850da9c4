import type { Command } from 'commander';
import pino from 'pino';
import type { GatewayConfig } from '../config/config.schema.js';
import type { SweepReport } from './maintenance-sweep.js';

/**
 * `causeway manage cleanup [--dry-run] [--json]`: one maintenance sweep (session lifecycle, then
 * retention) from the command line, under the same lease as the servers' sweeper, so it never runs
 * beside one. `--dry-run` changes nothing and prints what would end and what would go.
 */
export function registerCleanupCommand(manage: Command, loadConfig: (file: string) => GatewayConfig): void {
  manage
    .command('cleanup')
    .description('end idle and expired sessions and delete old rows now (what the background sweeper does)')
    .requiredOption('-c, --config <file>', 'YAML config file')
    .option('--dry-run', 'print what would be ended and deleted, change nothing')
    .option('--json', 'machine-readable output')
    .action(async (o: { config: string; dryRun?: boolean; json?: boolean }) => {
      const config = loadConfig(o.config);
      process.exitCode = await cleanup(config, { dryRun: !!o.dryRun, json: !!o.json });
    });
}

async function cleanup(config: GatewayConfig, o: { dryRun: boolean; json: boolean }): Promise<number> {
  const { openDataSource, runMigrations } = await import('../storage/data-source.js');
  const { Database } = await import('../storage/database.service.js');
  const { connectRedis } = await import('../storage/redis.js');
  const { clockFor } = await import('../clock/clock.js');
  const { DbOutbox } = await import('../events/outbox.js');
  const { IntrospectionCache } = await import('../oauth2/introspect/introspection-cache.js');
  const { SessionEnder } = await import('../oauth2/sessions/session-ender.js');
  const { SessionActivity } = await import('../oauth2/sessions/session-activity.js');
  const { SessionLifecycle } = await import('../oauth2/sessions/session-lifecycle.js');
  const { BrowserSessionsService } = await import('../identity/browser-sessions.service.js');
  const { BrowserSessionRepository } = await import('../storage/repositories/browser-session.repository.js');
  const { SessionEndRepository } = await import('../storage/repositories/session-end/session-end.repository.js');
  const { RetentionStore } = await import('../storage/retention.js');
  const { MaintenanceSweep } = await import('./maintenance-sweep.js');
  const { maintenanceLease } = await import('./maintenance-lease.js');

  const ds = await openDataSource({ url: config.database.url, schema: config.database.schema });
  const redis = config.redis ? connectRedis(config.redis.url, 'causeway-cli') : null;
  try {
    if (config.database.migrate_on_start) await runMigrations(ds);
    const db = new Database(ds, config.database.url);
    const clock = clockFor(config.dev_mode);
    const logger = pino({ level: 'silent' });
    // Sessions ended here reach the homeserver through the outbox, delivered by the running servers.
    const ends = new SessionEndRepository(db);
    const ender = new SessionEnder(db, ends, new DbOutbox(), new IntrospectionCache(config, null), clock);
    const lifecycle = new SessionLifecycle(config, db, ends, ender, new SessionActivity(db, logger, clock));
    const sweep = new MaintenanceSweep(config, clock, lifecycle, new BrowserSessionsService(new BrowserSessionRepository(db), config, clock), new RetentionStore(db));
    if (o.dryRun) {
      print(await sweep.run({ dryRun: true }), o.json);
      return 0;
    }
    const lease = maintenanceLease(config, db, redis, 'cli');
    if (!(await lease.acquire())) {
      process.stderr.write(`another sweep is running (lease held by ${(await lease.holder()) ?? 'another process'}); try again later\n`);
      return 1;
    }
    try {
      print(await sweep.run({ proceed: () => lease.renew() }), o.json);
    } finally {
      await lease.release();
    }
    return 0;
  } finally {
    redis?.disconnect();
    await ds.destroy();
  }
}

function print(r: SweepReport, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  const verb = r.dryRun ? 'would' : '';
  const lines = [
    r.dryRun ? 'Dry run: nothing was changed.' : `Sweep done in ${r.durationMs} ms (${r.batches} statements, longest ${r.longestBatchMs} ms)${r.interrupted ? ', interrupted' : ''}.`,
    `Sessions ${verb ? 'that would end' : 'ended'}: ${r.sessionsEnded.inactive.oauth} idle OAuth, ${r.sessionsEnded.inactive.compat} idle compat, ${r.sessionsEnded.expired} expired.`,
    `Browser sessions ${verb ? 'that would be marked finished' : 'marked finished'}: ${r.browserSessionsFinished}.`,
    `Rows ${verb ? 'that would be deleted' : 'deleted'}:`,
  ];
  const rows = Object.entries(r.deleted);
  const width = Math.max(10, ...rows.map(([t]) => t.length));
  for (const [table, n] of rows) lines.push(`  ${table.padEnd(width)} ${String(n).padStart(9)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
