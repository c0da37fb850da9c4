import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { exportJWK, type JWK } from 'jose';

export type SigningAlg = 'RS256' | 'ES256';

export interface SigningKey {
  kid: string;
  alg: SigningAlg;
  privateKey: KeyObject;
  publicJwk: JWK;
}

/** Parses a PEM private key and decides its algorithm: RSA ≥ 2048 bits → RS256, P-256 → ES256. */
export async function loadSigningKey(kid: string, pem: string): Promise<SigningKey> {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new Error(`key ${kid}: not a PEM private key`);
  }
  let alg: SigningAlg;
  if (privateKey.asymmetricKeyType === 'rsa') {
    const bits = privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw new Error(`key ${kid}: RSA keys must have at least 2048 bits (this one has ${bits})`);
    alg = 'RS256';
  } else if (privateKey.asymmetricKeyType === 'ec' && privateKey.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    alg = 'ES256';
  } else {
    throw new Error(`key ${kid}: only RSA (RS256) and P-256 (ES256) keys are supported`);
  }
  const publicJwk = await exportJWK(createPublicKey(privateKey));
  return { kid, alg, privateKey, publicJwk: { ...publicJwk, kid, alg, use: 'sig' } };
}

/**
 * Dev mode only: an RSA and an EC key generated on first start and kept in `dir`, so tokens survive
 * restarts of a local trial.
 */
export function ensureDevKeys(dir: string): { kid: string; pem: string }[] {
  const specs = [
    { kid: 'dev-rs256', gen: () => generateKeyPairSync('rsa', { modulusLength: 2048 }) },
    { kid: 'dev-es256', gen: () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }) },
  ];
  return specs.map(({ kid, gen }) => {
    const file = `${dir}/${kid}.pem`;
    if (!existsSync(file)) {
      mkdirSync(dirname(file), { recursive: true });
      const { privateKey } = gen();
      writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
    }
    return { kid, pem: readFileSync(file, 'utf8') };
  });
}
