/**
 * Errors as Synapse writes them (synapse/api/errors.py): `{"errcode", "error"}` plus `soft_logout`
 * for token errors. Thrown by the stand-in's handlers and written by its router.
 */
export class SynapseError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly errcode = 'M_UNKNOWN',
    readonly extra: Record<string, unknown> = {},
  ) {
    super(error);
  }
  body(): Record<string, unknown> {
    return { errcode: this.errcode, error: this.error, ...this.extra };
  }
}

/** MissingClientTokenError: 401 M_MISSING_TOKEN. */
export const missingToken = (msg = 'Missing access token') => new SynapseError(401, msg, 'M_MISSING_TOKEN');
/** InvalidClientTokenError: 401 M_UNKNOWN_TOKEN with soft_logout false. */
export const invalidToken = (msg: string) => new SynapseError(401, msg, 'M_UNKNOWN_TOKEN', { soft_logout: false });
/** AuthError default errcode is M_FORBIDDEN. */
export const authError = (status: number, msg: string) => new SynapseError(status, msg, 'M_FORBIDDEN');
export const notFound = (msg = 'Not found') => new SynapseError(404, msg, 'M_NOT_FOUND');
export const unrecognized = (status = 404) => new SynapseError(status, 'Unrecognized request', 'M_UNRECOGNIZED');

/** What Synapse sends for an exception it did not expect. */
export const internalError = () => new SynapseError(500, 'Internal server error', 'M_UNKNOWN');
