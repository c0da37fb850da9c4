import { readFileSync } from 'node:fs';

/**
 * The time Causeway's lifecycle decisions are made with: token and code expiry, session
 * inactivity, browser-session lifetime, retention ages. Injected (Nest provider `Clock`) so tests
 * can move it; wall-clock checks against other parties (IdP assertions, JWT `iat`, back-off
 * timers) keep using the real time.
 */
export abstract class Clock {
  /** Milliseconds since the epoch. */
  abstract now(): number;
}

export class SystemClock extends Clock {
  now(): number {
    return Date.now();
  }
}

/**
 * Tests only (`dev_mode: true` and `CAUSEWAY_TEST_CLOCK_FILE` in the environment): the real time
 * plus the offset in milliseconds written in that file, read on every call so a test moves the
 * clock of a running server by rewriting the file. A missing or unreadable file is offset 0.
 */
export class OffsetFileClock extends Clock {
  constructor(readonly file: string) {
    super();
  }
  now(): number {
    let offset = 0;
    try {
      offset = Number(readFileSync(this.file, 'utf8').trim()) || 0;
    } catch {
      /* no file yet: no offset */
    }
    return Date.now() + offset;
  }
}

/** The clock a process runs with: the system clock, unless a test clock is armed in dev mode. */
export function clockFor(devMode: boolean, env: NodeJS.ProcessEnv = process.env): Clock {
  const file = env.CAUSEWAY_TEST_CLOCK_FILE;
  return devMode && file ? new OffsetFileClock(file) : new SystemClock();
}
