/** An error in the Matrix client-server API shape: `{"errcode": "M_…", "error": "…"}`. */
export class MatrixError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    readonly error: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(error);
    this.name = 'MatrixError';
  }
  toJSON() {
    return { errcode: this.errcode, error: this.error, ...this.extra };
  }
}
