import { QueryFailedError } from 'typeorm';

/** Postgres' unique_violation: a concurrent request inserted the same key first. */
const UNIQUE_VIOLATION = '23505';

/** Whether `err` is Postgres refusing an insert because a concurrent transaction holds the same unique key. */
export function isUniqueViolation(err: unknown): boolean {
  return err instanceof QueryFailedError && (err.driverError as { code?: string } | undefined)?.code === UNIQUE_VIOLATION;
}
