#!/usr/bin/env node
import 'reflect-metadata';
import { Command } from 'commander';
import { loadConfigFile } from './config/config.loader.js';
import { ConfigError } from './config/config.errors.js';
import { createLogger } from './http/logger.js';
import type { GatewayConfig } from './config/config.schema.js';
import { manageCommand } from './cli/manage.js';
import { registerCleanupCommand } from './maintenance/cleanup.command.js';

const program = new Command('causeway').description('Causeway, the identity gateway for Matrix').showHelpAfterError();

function loadOrExit(file: string): GatewayConfig {
  try {
    return loadConfigFile(file);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
}

program
  .command('serve')
  .description('run the gateway')
  .requiredOption('-c, --config <file>', 'YAML config file')
  .action(async (o: { config: string }) => {
    const config = loadOrExit(o.config);
    const logger = createLogger(config.logging.level);
    const { startServer } = await import('./server.js');
    let server: Awaited<ReturnType<typeof startServer>>;
    try {
      server = await startServer(config, logger);
    } catch (e) {
      logger.fatal({ err: e }, 'start-up failed');
      process.exit(1);
    }
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      const force = setTimeout(() => {
        logger.error('shutdown took too long; exiting');
        process.exit(1);
      }, 25_000);
      force.unref();
      server.close().then(
        () => process.exit(0),
        (err) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });

const configCmd = program.command('config').description('configuration tools');
configCmd
  .command('check')
  .description('validate a config file without starting (exit 0 valid, 1 invalid)')
  .requiredOption('-c, --config <file>', 'YAML config file')
  .action((o: { config: string }) => {
    const config = loadOrExit(o.config);
    process.stdout.write(`${o.config}: valid (${config.upstream.providers.length} provider(s), ${config.clients.length} static client(s))\n`);
  });

program
  .command('migrate')
  .description('apply pending database migrations and exit')
  .requiredOption('-c, --config <file>', 'YAML config file')
  .action(async (o: { config: string }) => {
    const config = loadOrExit(o.config);
    const { openDataSource, runMigrations } = await import('./storage/data-source.js');
    const ds = await openDataSource({ url: config.database.url, schema: config.database.schema });
    try {
      const applied = await runMigrations(ds);
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
    } finally {
      await ds.destroy();
    }
  });

const importCmd = program.command('import').description('import data from another server');
importCmd
  .command('synapse-external-ids')
  .description("link Synapse's SSO users (user_external_ids) to the providers whose synapse_idp_id matches their auth_provider")
  .requiredOption('-c, --config <file>', 'YAML config file')
  .requiredOption('-i, --input <file>', 'export of user_external_ids: auth_provider, external_id, user_id (tab-separated)')
  .option('--format <format>', 'copy (psql \\copy, the default) or tsv (values verbatim, e.g. sqlite3 output)', 'copy')
  .option('--dry-run', 'report what would change without writing')
  .action(async (o: { config: string; input: string; format: string; dryRun?: boolean }) => {
    const config = loadOrExit(o.config);
    if (o.format !== 'copy' && o.format !== 'tsv') {
      process.stderr.write('--format: expected copy or tsv\n');
      process.exit(1);
    }
    const { readFileSync } = await import('node:fs');
    const { openDataSource, runMigrations } = await import('./storage/data-source.js');
    const { Database } = await import('./storage/database.service.js');
    const { importExternalIds, formatReport } = await import('./upstream/synapse-import.js');
    const text = readFileSync(o.input, 'utf8');
    const ds = await openDataSource({ url: config.database.url, schema: config.database.schema });
    try {
      if (config.database.migrate_on_start) await runMigrations(ds);
      const report = await importExternalIds(new Database(ds, config.database.url), config, text, { format: o.format, dryRun: !!o.dryRun });
      process.stdout.write(formatReport(report, !!o.dryRun));
    } finally {
      await ds.destroy();
    }
  });

registerCleanupCommand(manageCommand(program), loadOrExit);

await program.parseAsync(process.argv);
