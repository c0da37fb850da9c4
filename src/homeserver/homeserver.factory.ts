import type { MatrixConfig } from '../config/sections/matrix.config.js';
import type { HomeserverAdapter } from './homeserver.adapter.js';
import { HomeserverHttp } from './homeserver-http.js';
import { SynapseAdminAdapter } from './synapse-admin.adapter.js';
import { SynapseMasAdapter } from './synapse-mas.adapter.js';
import { NoHomeserverAdapter } from './no-homeserver.adapter.js';

/** The adapter `matrix.api` names, talking to `matrix.endpoint` with `matrix.secret` (or to nobody: `none`). */
export function createHomeserverAdapter(matrix: MatrixConfig, userAgent = 'Causeway'): HomeserverAdapter {
  const http = new HomeserverHttp({ endpoint: matrix.endpoint, token: matrix.secret, timeoutMs: matrix.timeout_ms, userAgent });
  switch (matrix.api) {
    case 'synapse-mas':
      return new SynapseMasAdapter(http);
    case 'synapse-admin':
      return new SynapseAdminAdapter(http, matrix.homeserver);
    case 'none':
      return new NoHomeserverAdapter();
  }
}
