import type { GatewayConfig } from '../config/config.schema.js';
import { KeyStore } from './key-store.js';
import { ensureDevKeys, loadSigningKey } from './keys.js';

/** Where dev mode keeps what it generates (signing keys, the encryption key). */
export const DEV_DATA_DIR = 'data/dev';

/** The signing keys of `secrets.keys`; in dev mode without any, keys generated once under data/dev. */
export async function loadKeyStore(config: GatewayConfig): Promise<KeyStore> {
  const keySpecs = config.secrets.keys.length ? config.secrets.keys : config.dev_mode ? ensureDevKeys(`${DEV_DATA_DIR}/keys`) : [];
  return new KeyStore(await Promise.all(keySpecs.map((k) => loadSigningKey(k.kid, k.pem))));
}
