import { createClient as createSdkClient, DebugLogger, OAuth2 as SdkOAuth2, type ICreateClientOpts, type ValidatedAuthMetadata } from 'matrix-js-sdk';

/** The SDK's request log is noise in tests: a logger that writes nowhere. */
const nowhere: ConstructorParameters<typeof DebugLogger>[0] = Object.assign(() => undefined, { extend: () => nowhere });
const quiet = new DebugLogger(nowhere);

/** matrix-js-sdk's createClient, quiet. */
export const createClient = (opts: Pick<ICreateClientOpts, 'baseUrl' | 'accessToken' | 'userId' | 'deviceId'>) => createSdkClient({ ...opts, logger: quiet });

/** matrix-js-sdk's OAuth 2.0 helper (as Element uses it), quiet. */
export class OAuth2 extends SdkOAuth2 {
  constructor(metadata: ValidatedAuthMetadata, context: ConstructorParameters<typeof SdkOAuth2>[1]) {
    super(metadata, context, quiet);
  }
  static override registerClient(metadata: ValidatedAuthMetadata, body: Parameters<typeof SdkOAuth2.registerClient>[1]) {
    return SdkOAuth2.registerClient(metadata, body, quiet);
  }
}
