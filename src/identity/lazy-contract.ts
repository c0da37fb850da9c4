import type { Abstract, Type } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import { SignInRefusedError } from './identity-errors.js';

/**
 * Resolves a contract implemented by another module (AuthorizationCompleter, HomeserverAdapter, …)
 * on first use, from whichever module provides it (`strict: false`). Keeps the login and identity
 * modules independent of how the providing module is wired (global or exported) and lets the
 * application start when a contract has no implementation yet: that use then answers 503.
 */
export function lazyContract<T>(moduleRef: ModuleRef, token: Type<T> | Abstract<T>): () => T {
  let resolved: T | undefined;
  return () => {
    if (resolved !== undefined) return resolved;
    try {
      resolved = moduleRef.get(token, { strict: false }) as T;
    } catch {
      throw new SignInRefusedError('sign_in_unavailable', {}, { reason: `no provider for ${token.name}` });
    }
    return resolved as T;
  };
}
