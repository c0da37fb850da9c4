import { z } from 'zod';

/** The sign-in audit trail: always written to the `audit_log` table; optionally streamed as JSON lines for a SIEM. */
export const auditSection = z
  .object({
    stream: z
      .enum(['none', 'stdout', 'file'])
      .default('none')
      .describe('Also write every audit event as one JSON object per line: `stdout` (beside the logs, each line has `"type":"audit"`), `file` (appended to `audit.file`) or `none`.'),
    file: z.string().min(1).optional().describe('The JSON-lines file when `stream: file` (opened for appending; created if missing).'),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.stream === 'file' && !a.file) ctx.addIssue({ code: 'custom', path: ['file'], message: 'required when stream is file' });
  })
  .describe('The audit trail of sign-ins, consents, token issuance, refresh-token reuse, upstream logouts and admin actions.');
export type AuditConfig = z.infer<typeof auditSection>;
