/**
 * The rows a RETURNING query gave back. TypeORM answers a raw UPDATE or DELETE with
 * `[rows, count]` and an INSERT or SELECT with the rows themselves.
 */
export function returnedRows<T = Record<string, unknown>>(result: unknown): T[] {
  if (!Array.isArray(result)) return [];
  return (Array.isArray(result[0]) ? result[0] : result) as T[];
}
