import type { GatewayConfig } from '../../config/config.schema.js';
import type { ProviderConfig } from '../../upstream/providers.schema.js';
import { openDataSource, runMigrations } from '../../storage/data-source.js';
import { readHomeserverConfig, type SynapseHomeserverConfig } from '../synapse-config/homeserver-config.js';
import { SynapseSource } from '../synapse-db/synapse-source.js';
import { CausewayTarget } from './causeway-target.js';
import { configFindings, dataFindings, formatFindings, mergeFindings, preflightFindings, providerMapping, type Findings } from './import-checks.js';
import { formatSummary, progressPrinter } from './import-report.js';
import { runImport, type ImportMode } from './import-runner.js';

export interface ImportCommandOptions {
  synapseDatabase: string;
  synapseConfig?: string;
  mode: ImportMode;
  ignoreUnmappedProviders: boolean;
  pageSize?: number;
}

interface Output {
  out: (s: string) => void;
  err: (s: string) => void;
  progress: NodeJS.WriteStream;
}

/**
 * `causeway import synapse`: checks (schema version, server name, provider mapping), then the
 * import (or a dry run, or `--check` alone), progress on stderr, the summary and findings on
 * stdout. Returns the exit code: 0 done (or no blockers), 1 blockers or an error.
 */
export async function importSynapseCommand(config: GatewayConfig<ProviderConfig>, o: ImportCommandOptions, io: Output): Promise<number> {
  let hs: SynapseHomeserverConfig | undefined;
  let source: SynapseSource | undefined;
  let closeTarget: (() => Promise<void>) | undefined;
  const started = Date.now();
  try {
    if (o.synapseConfig) hs = readHomeserverConfig(o.synapseConfig);
    source = await SynapseSource.open(o.synapseDatabase);
    await source.checkSchemaVersion();
    const before: Findings = mergeFindings(configFindings(config, hs), preflightFindings(config, hs, await source.preflight(config.matrix.homeserver), o.ignoreUnmappedProviders));
    if (before.blockers.length && o.mode !== 'check') {
      io.err(formatFindings(before));
      io.err('nothing was imported: fix the blockers above (`--check` lists everything a run would find)\n');
      return 1;
    }

    const ds = await openDataSource({ url: config.database.url, schema: config.database.schema });
    closeTarget = () => ds.destroy();
    let target: CausewayTarget | undefined;
    const pending = await ds.showMigrations();
    if (pending && o.mode === 'run' && config.database.migrate_on_start) await runMigrations(ds);
    else if (pending && o.mode !== 'check') {
      io.err("Causeway's database is not migrated yet: run `causeway migrate` first\n");
      return 1;
    } else if (pending) before.warnings.push("Causeway's database is not migrated yet (`causeway migrate`): read as empty");
    if (!pending || o.mode === 'run') {
      target = await CausewayTarget.open(ds, { url: config.database.url, schema: config.database.schema });
      const t = target;
      closeTarget = async () => {
        await t.close();
        await ds.destroy();
      };
    }

    const counts = await runImport(source, {
      mode: o.mode,
      serverName: config.matrix.homeserver,
      providerOf: providerMapping(config),
      target,
      pageSize: o.pageSize,
      progress: progressPrinter(io.progress),
    });
    const findings = mergeFindings(before, dataFindings(counts));
    io.out(formatSummary(counts, o.mode, Date.now() - started));
    io.out(formatFindings(findings));
    return o.mode === 'check' && findings.blockers.length ? 1 : 0;
  } catch (e) {
    io.err(`import failed: ${(e as Error).message}\n`);
    return 1;
  } finally {
    await source?.close().catch(() => undefined);
    await closeTarget?.().catch(() => undefined);
  }
}
