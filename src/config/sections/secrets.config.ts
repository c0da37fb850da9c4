import { z } from 'zod';
import { resolveSecret, secretShape } from '../secret-ref.js';

const signingKey = z
  .object({
    /** Key id published in the JWKS. */
    kid: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected 1-64 characters of A-Z a-z 0-9 . _ -'),
    /** PEM (PKCS#8 or PKCS#1/SEC1) private key: RSA (RS256) or P-256 (ES256). */
    ...secretShape('key'),
  })
  .strict()
  .transform((o, ctx) => ({ kid: o.kid, pem: resolveSecret(o, 'key', ctx, { required: true, raw: true }) ?? '' }));

export const secretsSection = z
  .object({
    /** At least 32 bytes of randomness: signs cookies and encrypts upstream state. */
    ...secretShape('encryption_key'),
    /** Signing keys; the first RSA key signs ID tokens. Without keys, dev_mode generates some in data/. */
    keys: z.array(signingKey).default([]),
  })
  .strict()
  .transform((o, ctx) => {
    const encryption_key = resolveSecret(o, 'encryption_key', ctx, { required: false });
    if (encryption_key !== undefined && encryption_key.length < 32) {
      ctx.addIssue({ code: 'custom', path: ['encryption_key'], message: 'must be at least 32 characters' });
    }
    return { encryption_key, keys: o.keys };
  });
export type SecretsConfig = z.infer<typeof secretsSection>;
