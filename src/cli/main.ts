#!/usr/bin/env node
// The ops CLI (`reseller-auth <command>`, package.json "bin"), the artisan passport:client of
// this service. See run.ts for the commands' behaviour and exit statuses.
import { destination } from 'pino';
import { runCli } from './run.js';

runCli(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  // Synchronous writes: the process exits right after the command, and no line may be lost.
  log: destination({ fd: 2, sync: true }),
  stdin: process.stdin,
}).then(
  // stdout may be a pipe whose writes are still queued (macOS): exit once they are flushed.
  (code) => process.stdout.write('', () => process.exit(code)),
  (err: unknown) => {
    process.stderr.write(`reseller-auth: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(70);
  },
);
