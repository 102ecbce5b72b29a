// Tells "the database is unreachable" (answered 503, issue 5) from a constraint violation the
// caller handles and from a programming error (a 500 that gets logged).
import { DependencyUnavailableError } from '../errors.js';
import { Prisma } from '../generated/prisma/client.js';

/** Prisma's code for a unique-constraint violation. */
export const UNIQUE_VIOLATION = 'P2002';

export function isUniqueViolation(err: unknown): err is Prisma.PrismaClientKnownRequestError {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === UNIQUE_VIOLATION;
}

function isUnavailable(err: unknown): boolean {
  if (err instanceof Prisma.PrismaClientInitializationError) return true;
  if (err instanceof Prisma.PrismaClientKnownRequestError) return /^P1\d{3}$/.test(err.code) || err.code === 'P2024';
  if (err instanceof Prisma.PrismaClientUnknownRequestError || err instanceof Prisma.PrismaClientRustPanicError) return true;
  // Errors from the pg driver itself (pool exhausted, connection refused, timeouts).
  const code = (err as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' &&
    (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EPIPE|57P0[1-3]|08\d{3}|53\d{3})$/.test(code) ||
      /timeout|terminated|connect/i.test((err as Error).message ?? ''))
  );
}

/** Runs a database call, turning connectivity failures into DependencyUnavailableError. */
export async function withDatabase<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof DependencyUnavailableError || !isUnavailable(err)) throw err;
    throw new DependencyUnavailableError('database', err);
  }
}
