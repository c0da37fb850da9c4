import type { GatewayConfig } from '../../config/config.schema.js';
import { HomeserverError } from '../../homeserver/homeserver.adapter.js';
import { createHomeserverAdapter } from '../../homeserver/homeserver.factory.js';
import { fail, pass, type Check } from '../doctor.js';
import { probe, reasonOf } from '../probe.js';
import type { ClockReadings } from './clock.check.js';

/** A localpart nobody has: asking whether it is available is harmless and needs the shared secret. */
const PROBE_LOCALPART = 'causeway-doctor-probe';

/** The homeserver answers at matrix.endpoint and accepts the shared secret (a harmless authenticated call). */
export function homeserverCheck(config: GatewayConfig, clock: ClockReadings): Check {
  return async () => {
    const { api, endpoint } = config.matrix;
    if (api === 'none') return [pass('homeserver', 'none (dev_mode: no homeserver is told anything)')];
    try {
      const versions = await probe(`${endpoint}_matrix/client/versions`);
      clock.push({ peer: 'the homeserver', skewMs: versions.skewMs });
    } catch (e) {
      return [fail('homeserver', `${endpoint} unreachable (${reasonOf(e)})`, 'check matrix.endpoint: the URL at which Causeway reaches Synapse (often the internal one, e.g. http://synapse:8008/)')];
    }
    try {
      await createHomeserverAdapter(config.matrix, 'Causeway doctor').isLocalpartAvailable(PROBE_LOCALPART);
    } catch (e) {
      const status = e instanceof HomeserverError ? e.status : undefined;
      if (status === 401 || status === 403) {
        return [
          fail(
            'homeserver',
            `${endpoint} refused the shared secret (HTTP ${status})`,
            api === 'synapse-mas' ? "matrix.secret must equal Synapse's matrix_authentication_service.secret" : "matrix.secret must equal Synapse's experimental_features.msc3861.admin_token",
          ),
        ];
      }
      return [
        fail(
          'homeserver',
          `${endpoint} answers, but the authenticated call failed (${(e as Error).message})`,
          api === 'synapse-mas' ? 'matrix.api: synapse-mas needs Synapse ≥ 1.136 with the matrix_authentication_service block; older Synapse: synapse-admin' : 'check matrix.api and the Synapse version',
        ),
      ];
    }
    return [pass('homeserver', `${endpoint} reachable, shared secret accepted (${api})`)];
  };
}
