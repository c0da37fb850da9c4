import { z } from 'zod';
import { resolveSecret, secretShape } from '../secret-ref.js';

const signingKey = z
  .object({
    kid: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected 1-64 characters of A-Z a-z 0-9 . _ -')
      .describe('Key id, published in the JWKS and in the `kid` header of what the key signs.'),
    ...secretShape('key', 'PEM private key (PKCS#8, PKCS#1 or SEC1): RSA (signs RS256) or P-256 (signs ES256).'),
  })
  .strict()
  .transform((o, ctx) => ({ kid: o.kid, pem: resolveSecret(o, 'key', ctx, { required: true, raw: true }) ?? '' }));

export const secretsSection = z
  .object({
    ...secretShape('encryption_key', 'At least 32 characters of randomness: signs cookies and encrypts state kept in the browser. Required outside dev_mode.'),
    keys: z.array(signingKey).default([]).describe('Signing keys (at least one outside dev_mode); the first RSA key signs ID tokens. With dev_mode and no keys, keys are generated under data/dev.'),
  })
  .strict()
  .transform((o, ctx) => {
    const encryption_key = resolveSecret(o, 'encryption_key', ctx, { required: false });
    if (encryption_key !== undefined && encryption_key.length < 32) {
      ctx.addIssue({ code: 'custom', path: ['encryption_key'], message: 'must be at least 32 characters' });
    }
    return { encryption_key, keys: o.keys };
  })
  .describe('Keys: the cookie/encryption key and the token signing keys.');
