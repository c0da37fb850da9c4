import { Option, type Command } from 'commander';
import type { GatewayConfig } from '../config/config.schema.js';
import type { ProviderConfig } from '../upstream/providers.schema.js';

/**
 * The commands that move an existing Synapse deployment to Causeway (docs/operator/synapse-migration.md):
 * `causeway import synapse` and `causeway config from-synapse`. Their code loads only when run.
 */
export function registerMigrationCommands(program: Command, loadOrExit: (file: string) => GatewayConfig<ProviderConfig>): void {
  const configCmd = program.commands.find((c) => c.name() === 'config') ?? program.command('config').description('configuration tools');
  configCmd
    .command('from-synapse')
    .description("write a Causeway config from Synapse's homeserver.yaml (SSO providers, mapping templates translated to Liquid)")
    .requiredOption('--synapse-config <file>', "Synapse's homeserver.yaml")
    .option('--out <file>', 'write the config here (default: standard output; the report then goes to standard error)')
    .option('--secrets-dir <dir>', 'directory the generated *_file references point into', '/run/secrets/causeway')
    .action(async (o: { synapseConfig: string; out?: string; secretsDir: string }) => {
      const { fromSynapseCommand } = await import('./synapse-config/from-synapse-command.js');
      process.exit(fromSynapseCommand(o));
    });

  const importCmd = program.command('import').description('import data from another server');
  importCmd
    .command('synapse')
    .description("import Synapse's users, SSO links, devices and tokens (nobody is signed out), reading Synapse's database directly")
    .requiredOption('-c, --config <file>', 'YAML config file')
    .requiredOption('--synapse-database <url>', "Synapse's database: postgres://… or sqlite:///path/homeserver.db")
    .option('--synapse-config <file>', "Synapse's homeserver.yaml (checks its server_name and SSO providers)")
    .addOption(new Option('--check', 'write nothing: list blockers and warnings and what a run would do').conflicts('dryRun'))
    .addOption(new Option('--dry-run', 'run the whole import in a transaction that is rolled back').conflicts('check'))
    .option('--ignore-unmapped-providers', 'import users of SSO providers no Causeway provider claims (their external ids are left out)')
    .option('--page-size <n>', 'users per transaction', (v) => Number.parseInt(v, 10))
    .action(async (o: { config: string; synapseDatabase: string; synapseConfig?: string; check?: boolean; dryRun?: boolean; ignoreUnmappedProviders?: boolean; pageSize?: number }) => {
      const config = loadOrExit(o.config);
      if (o.pageSize !== undefined && !(o.pageSize >= 1 && o.pageSize <= 100_000)) {
        process.stderr.write('--page-size: expected a number from 1 to 100000\n');
        process.exit(1);
      }
      const { importSynapseCommand } = await import('./import/import-command.js');
      const code = await importSynapseCommand(
        config,
        {
          synapseDatabase: o.synapseDatabase,
          synapseConfig: o.synapseConfig,
          mode: o.check ? 'check' : o.dryRun ? 'dry-run' : 'run',
          ignoreUnmappedProviders: !!o.ignoreUnmappedProviders,
          pageSize: o.pageSize,
        },
        { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s), progress: process.stderr },
      );
      process.exit(code);
    });
}
