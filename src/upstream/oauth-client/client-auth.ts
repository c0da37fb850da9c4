import * as oidc from 'openid-client';
import { importPKCS8 } from 'jose';
import { privateKeyAlg, toPkcs8 } from './private-key.js';

/** How Causeway authenticates at an upstream token endpoint (RFC 6749 §2.3, OIDC Core §9). */
export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'client_secret_jwt' | 'private_key_jwt' | 'none';

export interface ClientCredentials {
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  client_secret?: string;
  /** PEM private key (private_key_jwt). */
  private_key?: string;
  private_key_kid?: string;
}

/** The openid-client ClientAuth of a provider's credentials (the config schema checked that the needed ones are there). */
export async function clientAuthFor(c: ClientCredentials): Promise<oidc.ClientAuth> {
  switch (c.token_endpoint_auth_method) {
    case 'client_secret_basic':
      return oidc.ClientSecretBasic(c.client_secret!);
    case 'client_secret_post':
      return oidc.ClientSecretPost(c.client_secret!);
    case 'client_secret_jwt':
      // An HS256 client assertion keyed with the client secret (OIDC Core §9).
      return oidc.ClientSecretJwt(c.client_secret!);
    case 'none':
      return oidc.None();
    case 'private_key_jwt': {
      const pem = c.private_key!;
      const key = await importPKCS8(toPkcs8(pem), privateKeyAlg(pem)!);
      return oidc.PrivateKeyJwt({ key, kid: c.private_key_kid });
    }
  }
}

/** Methods that need `client_secret`. */
export const SECRET_METHODS: ReadonlySet<TokenEndpointAuthMethod> = new Set(['client_secret_basic', 'client_secret_post', 'client_secret_jwt']);
