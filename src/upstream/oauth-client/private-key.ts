import { createPrivateKey, type KeyObject } from 'node:crypto';

/** The JWS algorithm a private_key_jwt client assertion is signed with, from the key's type; undefined if unusable. */
export function privateKeyAlg(pem: string): 'RS256' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA' | undefined {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    return undefined;
  }
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'RS256';
    case 'ec':
      return ({ prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' } as const)[key.asymmetricKeyDetails?.namedCurve ?? ''];
    case 'ed25519':
      return 'EdDSA';
    default:
      return undefined;
  }
}

/** The key as PKCS#8 PEM (jose imports only that form). */
export function toPkcs8(pem: string): string {
  return createPrivateKey(pem).export({ format: 'pem', type: 'pkcs8' }) as string;
}
