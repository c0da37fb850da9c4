import { Global, Module, type DynamicModule } from '@nestjs/common';
import { KeyStore } from './key-store.js';

/** Secrets derived at start-up: signing keys and the key that signs cookies and encrypts state. */
export class EncryptionKey {
  constructor(readonly value: string) {}
}

@Global()
@Module({})
export class CryptoModule {
  static forRoot(keys: KeyStore, encryptionKey: string): DynamicModule {
    return {
      module: CryptoModule,
      providers: [
        { provide: KeyStore, useValue: keys },
        { provide: EncryptionKey, useValue: new EncryptionKey(encryptionKey) },
      ],
      exports: [KeyStore, EncryptionKey],
    };
  }
}
