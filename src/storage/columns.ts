import { Column, type ColumnOptions, type ValueTransformer } from 'typeorm';

/**
 * Column helpers that mean the same on SQLite and PostgreSQL. Timestamps are epoch milliseconds in a
 * bigint (node-postgres returns bigint as a string, hence the transformer).
 */
const bigintToNumber: ValueTransformer = {
  to: (v: number | null | undefined) => v,
  from: (v: string | number | null) => (v === null || v === undefined ? null : Number(v)),
};

export const TimestampColumn = (opts: ColumnOptions = {}) => Column({ type: 'bigint', transformer: bigintToNumber, ...opts });
export const NullableTimestampColumn = (opts: ColumnOptions = {}) =>
  Column({ type: 'bigint', transformer: bigintToNumber, nullable: true, default: null, ...opts });
export const IdColumnType = { type: 'varchar', length: 26 } as const;
