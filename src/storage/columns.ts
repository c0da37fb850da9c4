import { Column, JoinColumn, ManyToOne, type ColumnOptions, type ValueTransformer } from 'typeorm';

/**
 * Column helpers that mean the same on SQLite and PostgreSQL. Timestamps are epoch milliseconds in a
 * bigint (node-postgres returns bigint as a string, hence the transformer).
 */
export const bigintToNumber: ValueTransformer = {
  to: (v: number | null | undefined) => v,
  from: (v: string | number | null) => (v === null || v === undefined ? null : Number(v)),
};

export const TimestampColumn = (opts: ColumnOptions = {}) => Column({ type: 'bigint', transformer: bigintToNumber, ...opts });
export const NullableTimestampColumn = (opts: ColumnOptions = {}) => Column({ type: 'bigint', transformer: bigintToNumber, nullable: true, default: null, ...opts });
export const IdColumnType = { type: 'varchar', length: 26 } as const;

/**
 * What deleting the referenced row does to the referencing one: `NO ACTION` refuses the delete
 * while rows point at it (users: never deleted, a Matrix user id is never reused), `CASCADE`
 * deletes them with it (a session's tokens), `SET NULL` forgets the reference (a finished browser
 * session the retention sweeper deleted before the sessions it gave birth to).
 */
export type OnDelete = 'NO ACTION' | 'CASCADE' | 'SET NULL';

/**
 * A foreign key on an id column the entity already declares. The relation property exists for the
 * schema only (never loaded, never written): the code keeps reading and writing the id column.
 */
export const References =
  (target: () => Function, column: string, onDelete: OnDelete): PropertyDecorator =>
  (proto, prop) => {
    ManyToOne(target, { onDelete, onUpdate: 'NO ACTION' })(proto, prop);
    JoinColumn({ name: column })(proto, prop);
  };
