/**
 * Cursor pagination for every admin listing: rows in ascending id order (ULIDs sort by creation
 * time, and ids are unique, so the order is total and stable while rows are added), `after` the last
 * id of the previous page. A page of `limit` rows is fetched with one extra to know if more follow.
 */
export interface PageRequest {
  /** Exclusive: the last id of the previous page. */
  after?: string;
  limit: number;
}

export interface Page<T> {
  data: T[];
  /** The `after` of the next page, or null on the last one. */
  nextAfter: string | null;
}

/** Turns `limit + 1` fetched rows into a page. */
export function toPage<R, T>(rows: R[], limit: number, id: (r: R) => string, map: (r: R) => T): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return { data: kept.map(map), nextAfter: more ? id(kept[kept.length - 1]!) : null };
}
