/** Plain-text tables for `causeway manage` (the human format; `--json` prints the API's JSON instead). */
export function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (!rows.length) return '(none)\n';
  const cell = (v: unknown): string => {
    if (v === null || v === undefined) return '-';
    if (Array.isArray(v)) return v.join(' ');
    if (typeof v === 'object') return JSON.stringify(v);
    if (typeof v === 'number' && v > 1_000_000_000_000) return new Date(v).toISOString();
    return String(v);
  };
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n') + '\n';
}

/** One record as `key: value` lines. */
export function record(r: Record<string, unknown>): string {
  const width = Math.max(...Object.keys(r).map((k) => k.length));
  return (
    Object.entries(r)
      .map(([k, v]) => `${k.padEnd(width)}  ${v === null || v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : typeof v === 'number' && v > 1_000_000_000_000 ? new Date(v).toISOString() : String(v)}`)
      .join('\n') + '\n'
  );
}
