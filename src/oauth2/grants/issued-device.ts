import type { Logger } from 'pino';
import type { Database } from '../../storage/database.service.js';
import { TemporarilyUnavailableError } from '../errors.js';
import type { DeviceProvisioner } from '../homeserver/device-provisioner.js';
import type { SessionEnder } from '../sessions/session-ender.js';

/**
 * After a code or device code became a session: make sure the homeserver has the device before
 * the tokens leave (see DeviceProvisioner.reaffirmDevice). If it cannot, the new session is ended
 * and the client gets a 503 (a 5xx: clients retry or restart the login instead of signing out).
 */
export async function reaffirmIssuedDevice(
  deps: { db: Database; provisioner: DeviceProvisioner; ender: SessionEnder; logger: Logger },
  issued: { sessionId: string; localpart: string; deviceId?: string },
): Promise<void> {
  if (!issued.deviceId) return;
  try {
    await deps.provisioner.reaffirmDevice(issued.localpart, issued.deviceId);
  } catch (err) {
    deps.logger.warn({ err, localpart: issued.localpart }, 'homeserver refused the device at token issuance; session ended');
    await deps.db.transaction((em) => deps.ender.end(em, [issued.sessionId], 'revoked'));
    deps.ender.committed();
    throw new TemporarilyUnavailableError('the homeserver could not set up this device; please sign in again');
  }
}
