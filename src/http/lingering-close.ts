import type { Socket } from 'node:net';

/** How long a refused upload may keep arriving after the answer (nginx: lingering_time). */
export const LINGER_MS = 2_000;
/** How much of it is read and dropped before the socket is cut anyway. */
export const LINGER_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Closes a connection whose request body was refused (413) without losing the answer: closing a
 * socket with unread data makes the kernel send a reset, and a client still uploading then drops
 * the 413 it had not read yet (RFC 9112 §9.6, "staged close"). Node's server calls destroySoon()
 * once the answer is written; this replaces it for this socket with a half-close (FIN after the
 * answer) followed by reading and dropping what still arrives, bounded in time and bytes.
 */
export function closeAfterAnswerLingering(socket: Socket, lingerMs = LINGER_MS, maxBytes = LINGER_MAX_BYTES): void {
  socket.destroySoon = function lingeringClose(this: Socket) {
    let dropped = 0;
    const cut = () => this.destroy();
    const timer = setTimeout(cut, lingerMs);
    timer.unref();
    this.once('close', () => clearTimeout(timer));
    // The client's own FIN: it has read what it wanted; nothing more will come.
    this.once('end', cut);
    this.on('data', (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > maxBytes) cut();
    });
    this.end();
    this.resume();
  };
}
