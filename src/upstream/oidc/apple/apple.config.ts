import { createPrivateKey } from 'node:crypto';
import { z } from 'zod';
import { resolveSecret, secretShape } from '../../../config/secret-ref.js';

/** Apple's limit on a client secret's lifetime: `exp` at most 15777000 s (six months) after `iat`. */
export const APPLE_MAX_SECRET_TTL = 15_777_000;

/**
 * Sign in with Apple: the client secret is a JWT Causeway signs with the `.p8` key of the
 * developer account (Apple, "Creating a client secret"), not a shared string.
 */
export const appleSchema = z
  .object({
    team_id: z
      .string()
      .regex(/^[A-Z0-9]{10}$/, 'expected the 10-character Team ID')
      .describe('The Apple Developer Team ID (`iss` of the client secret).'),
    key_id: z
      .string()
      .regex(/^[A-Z0-9]{10}$/, 'expected the 10-character Key ID')
      .describe('The Key ID of the Sign in with Apple private key (`kid` of the client secret).'),
    ...secretShape('private_key', 'The Sign in with Apple private key, the `AuthKey_<key id>.p8` file Apple lets you download once (PKCS#8 PEM, EC P-256).'),
    client_secret_ttl: z
      .number()
      .int()
      .min(300)
      .max(APPLE_MAX_SECRET_TTL)
      .default(86_400)
      .describe('Lifetime of each generated client secret, in seconds (Apple allows up to 15777000, six months); a new one is signed once half of it has passed.'),
  })
  .strict()
  .transform((o, ctx) => {
    const private_key = resolveSecret(o, 'private_key', ctx, { required: 'the .p8 key signs the client secret', raw: true });
    if (private_key !== undefined && !isP256PrivateKey(private_key)) {
      ctx.addIssue({ code: 'custom', path: ['private_key'], message: 'expected a PEM EC P-256 private key (the .p8 file from Apple)' });
    }
    return { team_id: o.team_id, key_id: o.key_id, client_secret_ttl: o.client_secret_ttl, private_key: private_key ?? '' };
  })
  .describe(
    'Sign in with Apple: Causeway signs its client secret (an ES256 JWT) with this key and rotates it; `client_id` is the Services ID, `response_mode` must be `form_post`, and the name Apple posts once, at the first authorization, becomes `user.name`, `user.given_name`, `user.family_name`.',
  );
export type AppleConfig = z.infer<typeof appleSchema>;

function isP256PrivateKey(pem: string): boolean {
  try {
    const key = createPrivateKey(pem);
    return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
  } catch {
    return false;
  }
}
