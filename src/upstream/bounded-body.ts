/** An IdP answer larger than the caller allows; each caller turns it into its protocol's error. */
export class BodyTooLargeError extends Error {
  constructor(
    readonly limit: number,
    readonly declared?: number,
  ) {
    super(declared === undefined ? `answer larger than ${limit} bytes` : `answer of ${declared} bytes is over the ${limit}-byte limit`);
  }
}

/**
 * Reads a fetch response body into memory, never more than `limit` bytes: a declared length over
 * the limit is refused before reading, and the stream is cancelled as soon as it passes the limit
 * (an IdP, or whoever answers in its place, must not be able to fill our memory).
 */
export async function readBodyBounded(res: Response, limit: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > limit) {
    await res.body?.cancel().catch(() => undefined);
    throw new BodyTooLargeError(limit, declared);
  }
  const reader = res.body?.getReader();
  if (!reader) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLargeError(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
