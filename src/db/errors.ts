// Tells "the database is unreachable" (answered 503 with Retry-After, docs/security.md "Outages") from a constraint violation the
// caller handles and from a programming error (a 500 that gets logged).
import { DependencyUnavailableError } from '../errors.js';
import { Prisma } from '../generated/prisma/client.js';

/** Prisma's code for a unique-constraint violation. */
export const UNIQUE_VIOLATION = 'P2002';

export function isUniqueViolation(err: unknown): err is Prisma.PrismaClientKnownRequestError {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === UNIQUE_VIOLATION;
}

// PostgreSQL SQLSTATEs that mean "not now" rather than "never" (PostgreSQL manual, Appendix A):
// the server is shutting down or restarting (57P01-57P03), the connection failed (class 08), it
// is out of resources (class 53), or the statement or a lock wait ran into its timeout (57014
// query_canceled by statement_timeout, 55P03 lock_not_available by lock_timeout).
const TRANSIENT_SQLSTATE = /^(57P0[1-3]|08\d{3}|53\d{3}|57014|55P03)$/;
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH']);
// @prisma/adapter-pg's error kinds (convertDriverError) for a database that cannot be used now.
const UNREACHABLE_KINDS = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
  'TlsConnectionError',
  'DatabaseDoesNotExist',
  'DatabaseAccessDenied',
  'AuthenticationFailed',
]);
// pg and pg-pool raise plain Errors, without a code, for their own timeouts and dropped
// connections ("Query read timeout", "timeout exceeded when trying to connect", "Connection
// terminated unexpectedly", "… is not queryable"); the adapter passes them through unchanged.
const DRIVER_MESSAGES = /timeout|terminated|not queryable|after calling end on the pool/i;

interface AdapterErrorCause {
  kind?: unknown;
  code?: unknown;
  originalCode?: unknown;
}

function isTransientAdapterError(cause: AdapterErrorCause | undefined): boolean {
  if (!cause) return false;
  if (typeof cause.kind === 'string' && UNREACHABLE_KINDS.has(cause.kind)) return true;
  const code = cause.originalCode ?? cause.code;
  return typeof code === 'string' && TRANSIENT_SQLSTATE.test(code);
}

function isUnavailable(err: unknown): boolean {
  if (err instanceof Prisma.PrismaClientInitializationError) return true;
  if (err instanceof Prisma.PrismaClientKnownRequestError) {
    if (/^P1\d{3}$/.test(err.code) || err.code === 'P2024') return true;
    // P2010 and friends carry the driver adapter's error in meta.
    return isTransientAdapterError((err.meta?.driverAdapterError as { cause?: AdapterErrorCause } | undefined)?.cause);
  }
  if (err instanceof Prisma.PrismaClientUnknownRequestError || err instanceof Prisma.PrismaClientRustPanicError) return true;
  if (!(err instanceof Error)) return false;
  // Model queries let the adapter's DriverAdapterError through as it is (e.g. a statement timeout).
  if (err.name === 'DriverAdapterError') return isTransientAdapterError((err as { cause?: AdapterErrorCause }).cause);
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return NETWORK_CODES.has(code) || TRANSIENT_SQLSTATE.test(code);
  return DRIVER_MESSAGES.test(err.message);
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
