import { describe, expect, it } from '@jest/globals';
import { BodyTooLargeError, readBodyBounded } from '../../../src/upstream/bounded-body.js';

/** A streamed response without a Content-Length, in `chunks` chunks of `size` bytes; counts what was pulled. */
function streamed(chunks: number, size: number) {
  const pulled = { count: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (pulled.count === chunks) return c.close();
      pulled.count++;
      c.enqueue(new Uint8Array(size).fill(97));
    },
    cancel() {
      pulled.cancelled = true;
    },
  });
  return { res: new Response(body), pulled };
}

describe('readBodyBounded', () => {
  it('returns a body within the limit byte for byte', async () => {
    const { res } = streamed(3, 10);
    expect((await readBodyBounded(res, 30)).toString()).toBe('a'.repeat(30));
  });

  it('refuses a declared length over the limit without reading it', async () => {
    const res = new Response('x'.repeat(100), { headers: { 'content-length': '100' } });
    const e = await readBodyBounded(res, 50).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BodyTooLargeError);
    expect((e as BodyTooLargeError).declared).toBe(100);
  });

  it('stops reading and cancels the stream once an undeclared body passes the limit', async () => {
    const { res, pulled } = streamed(1000, 1024);
    const e = await readBodyBounded(res, 4096).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BodyTooLargeError);
    expect((e as BodyTooLargeError).declared).toBeUndefined();
    expect(pulled.cancelled).toBe(true);
    expect(pulled.count).toBeLessThan(10);
  });

  it('reads an empty body as empty', async () => {
    expect((await readBodyBounded(new Response(null), 10)).length).toBe(0);
  });
});
