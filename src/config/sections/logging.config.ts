import { z } from 'zod';

export const loggingSection = z
  .object({
    level: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .describe('Lowest level written to the JSON logs on standard output (`debug` adds a line per introspection and per login step).'),
  })
  .strict()
  .describe('Logs: JSON lines on standard output.');
