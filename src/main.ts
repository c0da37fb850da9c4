#!/usr/bin/env node
import 'reflect-metadata';
import { Command } from 'commander';
import { loadConfigFile } from './config/config.loader.js';
import { ConfigError } from './config/config.errors.js';
import { createLogger } from './http/logger.js';
import type { GatewayConfig } from './config/config.schema.js';
import { gatewayConfigSchema } from './upstream/gateway-config.schema.js';
import type { ProviderConfig } from './upstream/providers.schema.js';
import { buildInfo } from './health/build-info.js';
import { registerMigrationCommands } from './migration/cli.js';
import { manageCommand } from './cli/manage.js';
import { registerCleanupCommand } from './maintenance/cleanup.command.js';

const info = buildInfo();
const program = new Command('causeway')
  .description('Causeway, the identity gateway for Matrix')
  .version(`causeway ${info.version} (commit ${info.commit})`, '-V, --version', 'print the version and the commit it was built from')
  .showHelpAfterError();

function loadOrExit(file: string): GatewayConfig<ProviderConfig> {
  try {
    return loadConfigFile(file, gatewayConfigSchema);
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
    const traced = config.telemetry.tracing.exporter !== 'none';
    const logger = createLogger(config.logging.level, traced);
    // Before the server's modules load: the instrumentations hook their imports.
    const tracing = traced ? await (await import('./telemetry/tracing.js')).startTracing(config.telemetry.tracing, buildInfo(), logger) : undefined;
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
        async () => {
          await tracing?.shutdown().catch((err: unknown) => logger.warn({ err }, 'tracing: final export failed'));
          process.exit(0);
        },
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

configCmd
  .command('schema')
  .description('print the JSON Schema of the config file (for editor validation), every key described')
  .action(async () => {
    const { configJsonSchema } = await import('./config/config-json-schema.js');
    process.stdout.write(`${JSON.stringify(configJsonSchema(gatewayConfigSchema), null, 2)}\n`);
  });

program
  .command('doctor')
  .description('check a deployment: config, database, Redis, homeserver and its shared secret, public_base, each IdP and its certificates, clocks (exit 1 on any problem)')
  .requiredOption('-c, --config <file>', 'YAML config file')
  .action(async (o: { config: string }) => {
    const { doctor } = await import('./doctor/run.js');
    const code = await doctor(o.config, process.stdout);
    process.stdout.write('', () => process.exit(code));
  });

const templatesCmd = program.command('templates').description('page templates and translations');
templatesCmd
  .command('check')
  .description('render every page with sample data in every language, with templates.path and templates.translations_path (exit 0 ok, 1 problems)')
  .requiredOption('-c, --config <file>', 'YAML config file')
  .action(async (o: { config: string }) => {
    const config = loadOrExit(o.config);
    const { preparePages, PageSetupError } = await import('./web/page-setup.js');
    const { checkTemplates } = await import('./web/templates-check.js');
    let problems: string[];
    let summary = '';
    try {
      const setup = preparePages(config);
      for (const w of setup.warnings) process.stdout.write(`warning: ${w}\n`);
      const report = await checkTemplates(setup, config.templates.path);
      problems = report.problems;
      summary = `${report.rendered} page(s) rendered in ${report.languages} language(s)`;
    } catch (e) {
      if (!(e instanceof PageSetupError)) throw e;
      problems = e.problems;
    }
    if (problems.length) {
      process.stderr.write(`${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
      process.exit(1);
    }
    process.stdout.write(`templates: ok (${summary})\n`);
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

registerMigrationCommands(program, loadOrExit);

const { registerManage } = await import('./admin/cli/manage.command.js');
registerManage(program, loadOrExit);
// After the admin commands, which create the `manage` group.
registerCleanupCommand(manageCommand(program), loadOrExit);

await program.parseAsync(process.argv);
