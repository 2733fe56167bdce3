// Recognising PostgreSQL errors by SQLSTATE, so services can turn them into domain errors.
import { QueryFailedError } from 'typeorm';

interface PgErrorShape {
  code?: string;
  constraint?: string;
}

function pgError(err: unknown): PgErrorShape | undefined {
  if (err instanceof QueryFailedError) return err.driverError as PgErrorShape;
  if (err && typeof err === 'object' && 'code' in err) return err as PgErrorShape;
  return undefined;
}

export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = pgError(err);
  return e?.code === '23505' && (!constraint || e.constraint === constraint);
}

/** Deadlock or serialization failure: PostgreSQL rolled the transaction back; running it again is safe. */
export function isTransientConflict(err: unknown): boolean {
  return ['40P01', '40001'].includes(String(pgError(err)?.code));
}

/** Connection-level failures: the database is down or unreachable, worth retrying later. */
export function isDatabaseUnavailable(err: unknown): boolean {
  const code = pgError(err)?.code ?? (err as NodeJS.ErrnoException | undefined)?.code;
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P02', '57P03', '08000', '08003', '08006'].includes(String(code)) ||
    /Connection terminated|connect ECONNREFUSED|Client has encountered a connection error/i.test(String((err as Error)?.message));
}
