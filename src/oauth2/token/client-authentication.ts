import { Injectable } from '@nestjs/common';
import { secretsEqual, sha256Hex } from '../../crypto/token-format.js';
import { ClientService } from '../clients/client.service.js';
import type { OAuthClient } from '../clients/client.js';
import { InvalidClientError, InvalidRequestError } from '../errors.js';

export interface ClientCredentials {
  clientId?: string;
  secret?: string;
  method: 'none' | 'client_secret_basic' | 'client_secret_post';
}

/**
 * Reads the client's credentials from the request (RFC 6749 §2.3.1): HTTP Basic (id and secret
 * form-urlencoded, then base64), or client_id/client_secret in the body, or client_id alone
 * (public clients). Using both Basic and body secrets is invalid_request.
 */
export function readClientCredentials(authorization: string | undefined, params: Record<string, string>): ClientCredentials {
  if (authorization !== undefined && /^basic /i.test(authorization)) {
    if (params.client_secret !== undefined) throw new InvalidRequestError('use one client authentication method');
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) throw new InvalidClientError('malformed Basic credentials');
    let id: string;
    let secret: string;
    try {
      id = decodeURIComponent(decoded.slice(0, i).replace(/\+/g, ' '));
      secret = decodeURIComponent(decoded.slice(i + 1).replace(/\+/g, ' '));
    } catch {
      throw new InvalidClientError('malformed Basic credentials');
    }
    if (params.client_id !== undefined && params.client_id !== id) throw new InvalidRequestError('client_id does not match the Basic credentials');
    return { clientId: id, secret, method: 'client_secret_basic' };
  }
  if (params.client_secret !== undefined) return { clientId: params.client_id, secret: params.client_secret, method: 'client_secret_post' };
  return { clientId: params.client_id, method: 'none' };
}

/** Authenticates the client with the method it registered; every failure is invalid_client (401). */
@Injectable()
export class ClientAuthenticator {
  constructor(private readonly clients: ClientService) {}

  async authenticate(creds: ClientCredentials): Promise<OAuthClient> {
    if (!creds.clientId) throw new InvalidClientError('client authentication failed');
    const client = await this.clients.find(creds.clientId);
    if (!client) throw new InvalidClientError('client authentication failed');
    if (client.authMethod !== creds.method) throw new InvalidClientError('client authentication failed');
    if (creds.method !== 'none') {
      if (!client.secretHash || creds.secret === undefined || !secretsEqual(sha256Hex(creds.secret), client.secretHash)) {
        throw new InvalidClientError('client authentication failed');
      }
    }
    return client;
  }
}
