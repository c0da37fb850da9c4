import { Module } from '@nestjs/common';
import { AuthorizationCompleter, DeviceGrantDecider, SessionTerminator } from './oauth2.contracts.js';
import { ClientService } from './clients/client.service.js';
import { AuthorizationService } from './authorize/authorization.service.js';
import { DeviceAuthorizationService } from './device/device-authorization.service.js';
import { SessionTerminatorService } from './sessions/session-terminator.service.js';
import { SessionEnder } from './sessions/session-ender.js';
import { SessionActivity } from './sessions/session-activity.js';
import { SessionLimit } from './sessions/session-limit.js';
import { SessionLifecycle } from './sessions/session-lifecycle.js';
import { IssuanceRecorder } from './token/issuance-recorder.js';
import { TokenIssuer } from './token/token-issuer.js';
import { ClientAuthenticator } from './token/client-authentication.js';
import { AuthorizationCodeGrant } from './grants/authorization-code.grant.js';
import { RefreshTokenGrant } from './grants/refresh-token.grant.js';
import { ClientCredentialsGrant } from './grants/client-credentials.grant.js';
import { DeviceCodeGrant } from './grants/device-code.grant.js';
import { IntrospectionCache } from './introspect/introspection-cache.js';
import { IntrospectionService } from './introspect/introspection.service.js';
import { RevocationService } from './revoke/revocation.service.js';
import { DeviceProvisioner } from './homeserver/device-provisioner.js';
import { DiscoveryController } from './discovery/discovery.controller.js';
import { RegistrationController } from './registration/registration.controller.js';
import { TokenController } from './token/token.controller.js';
import { IntrospectionEndpoint } from './introspect/introspection.endpoint.js';
import { RevocationController } from './revoke/revocation.controller.js';
import { UserinfoController } from './userinfo/userinfo.controller.js';
import { DeviceAuthorizationController } from './device/device-authorization.controller.js';
import { PersonalTokens } from './personal/personal-tokens.service.js';
import { AvatarUploader } from './avatar/avatar-uploader.js';
import { AvatarSetter } from '../events/avatar-setter.js';

/**
 * The OAuth 2.0 / OIDC provider: discovery, DCR, token, introspection, revocation, userinfo,
 * device authorization, JWKS; and the services the login flow and logout receivers use
 * (AuthorizationCompleter, DeviceGrantDecider, SessionTerminator).
 */
@Module({
  controllers: [DiscoveryController, RegistrationController, TokenController, RevocationController, UserinfoController, DeviceAuthorizationController],
  providers: [
    ClientService,
    ClientAuthenticator,
    IntrospectionCache,
    IntrospectionService,
    IntrospectionEndpoint,
    SessionEnder,
    SessionActivity,
    SessionLimit,
    SessionLifecycle,
    TokenIssuer,
    IssuanceRecorder,
    DeviceProvisioner,
    AuthorizationCodeGrant,
    RefreshTokenGrant,
    ClientCredentialsGrant,
    DeviceCodeGrant,
    RevocationService,
    AuthorizationService,
    DeviceAuthorizationService,
    SessionTerminatorService,
    PersonalTokens,
    AvatarUploader,
    { provide: AvatarSetter, useExisting: AvatarUploader },
    { provide: AuthorizationCompleter, useExisting: AuthorizationService },
    { provide: DeviceGrantDecider, useExisting: DeviceAuthorizationService },
    { provide: SessionTerminator, useExisting: SessionTerminatorService },
  ],
  // SessionEnder and DeviceProvisioner: for the compatibility layer's /login (src/compat), which ends and provisions sessions the same way.
  exports: [
    AuthorizationCompleter,
    DeviceGrantDecider,
    SessionTerminator,
    ClientService,
    IntrospectionCache,
    SessionEnder,
    SessionLimit,
    SessionActivity,
    SessionLifecycle,
    DeviceProvisioner,
    PersonalTokens,
    IntrospectionService,
    IssuanceRecorder,
    AvatarSetter,
  ],
})
export class OAuth2Module {}
