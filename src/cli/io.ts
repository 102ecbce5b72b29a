// Where a CLI run reads and writes: the process's streams in main.ts, buffers in tests.
import type { DestinationStream } from 'pino';

export interface CliIo {
  env: Record<string, string | undefined>;
  /** The command's result, and --help. A terminal (isTTY) gets tables by default, anything else JSON. */
  stdout: { write(text: string): unknown; isTTY?: boolean };
  /** Error messages and usage. */
  stderr: { write(text: string): unknown };
  /** Log lines (the audit trail included): standard error in main.ts. */
  log: DestinationStream;
  stdin: AsyncIterable<Buffer | string>;
}
