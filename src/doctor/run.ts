import type { GatewayConfig } from '../config/config.schema.js';
import { ConfigError } from '../config/config.errors.js';
import { loadConfigFile } from '../config/config.loader.js';
import { gatewayConfigSchema } from '../upstream/gateway-config.schema.js';
import type { ProviderConfig } from '../upstream/providers.schema.js';
import { fail, formatReport, pass, runChecks, type Check } from './doctor.js';
import { clockCheck, type ClockReadings } from './checks/clock.check.js';
import { homeserverCheck } from './checks/homeserver.check.js';
import { publicBaseCheck } from './checks/public-base.check.js';
import { databaseCheck, redisCheck } from './checks/storage.check.js';
import { upstreamChecks } from './checks/upstream.check.js';

/** Runs every check against the deployment the config file describes; returns the exit code (1 if any ✖). */
export async function doctor(configFile: string, out: NodeJS.WritableStream): Promise<number> {
  let config: GatewayConfig<ProviderConfig>;
  try {
    config = loadConfigFile(configFile, gatewayConfigSchema);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    out.write(formatReport(configFile, [fail('config', e.message.replace(/\n/g, '\n    '), 'fix the keys named above; `causeway config check` lists every problem')]));
    return 1;
  }
  const clock: ClockReadings = [];
  const checks: Check[] = [
    async () => [pass('config', `valid (${config.upstream.providers.length} provider(s), ${config.clients.length} static client(s))`)],
    databaseCheck(config),
    redisCheck(config),
    homeserverCheck(config, clock),
    publicBaseCheck(config),
    ...upstreamChecks(config, clock),
    clockCheck(clock),
  ];
  const results = await runChecks(checks);
  out.write(formatReport(configFile, results));
  return results.every((r) => r.ok) ? 0 : 1;
}
