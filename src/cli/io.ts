// Where a CLI run reads and writes: the process's streams in main.ts, buffers in tests.
import type { DestinationStream } from 'pino';

export interface CliIo {
  env: Record<string, string | undefined>;
  /** The command's JSON result, and --help. */
  stdout: { write(text: string): unknown };
  /** Error messages and usage. */
  stderr: { write(text: string): unknown };
  /** Log lines (the audit trail included): standard error in main.ts. */
  log: DestinationStream;
  stdin: AsyncIterable<Buffer | string>;
}
