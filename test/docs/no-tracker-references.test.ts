// A reader of this repository has neither our tracker nor the documents that stood outside it
// before docs/ held the contract. Every tracked file (source, tests, scripts, chart, Dockerfile,
// Prisma schema, docs) must therefore say what the code guarantees and why, citing an RFC
// section or a docs/ page: never a tracker number ("issue 5", "#12") and never API.md,
// PRISMA-OFFLINE.md, STYLE.md or ../shared/. An upstream project's issue is cited as
// owner/repo#123, which this test accepts.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const self = 'test/docs/no-tracker-references.test.ts';

/** What a reader cannot follow, each with the reason the failure message gives. */
const forbidden: [RegExp, string][] = [
  [/\b[Ii]ssues?\s+#?\d+/, 'a tracker number'],
  [/(^|[\s([{])#\d+\b/, 'a tracker number'],
  [/\b(API|STYLE|PRISMA-OFFLINE)\.md\b/, 'a document outside the repository (docs/ holds the contract)'],
  [/\.\.\/shared\b|\/work\/shared\b/, 'a path outside the repository'],
];

/** Not prose: lock files and images. */
const skipped = (path: string) => path === self || path === 'package-lock.json' || /\.(png|jpe?g|gif|ico|woff2?)$/.test(path);

function trackedFiles(): string[] {
  return execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
    .split('\0')
    .filter((path) => path !== '' && !skipped(path));
}

/** Each offending line of a file, as `path:line: reason: text`. */
function references(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(join(root, path), 'utf8');
  } catch {
    return []; // deleted in the working tree, not yet in the index
  }
  const found: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const [pattern, reason] of forbidden) {
      if (pattern.test(line)) {
        found.push(`${path}:${i + 1}: ${reason}: ${line.trim().slice(0, 160)}`);
        break;
      }
    }
  });
  return found;
}

t.test('no tracked file cites a tracker number or a document outside the repository', async (t) => {
  const files = trackedFiles();
  t.ok(files.length > 100, `git ls-files lists the repository (${files.length} files)`);
  const offending = files.flatMap(references);
  t.same(offending, [], 'say what the code guarantees and why, or cite the docs/ page or the RFC section');
});

t.test('the patterns catch what they are for, and leave the rest alone', async (t) => {
  const caught = (line: string) => forbidden.some(([pattern]) => pattern.test(line));
  for (const line of [
    '// Issue 8: a Passport refresh token',
    '// Bounded everything (issue 5): body size',
    '// (issues 4 and 5)',
    '// see #12',
    '// (API.md "Ops")',
    '// see ../shared/PRISMA-OFFLINE.md',
    '# STYLE.md: one interface',
  ]) {
    t.ok(caught(line), `caught: ${line}`);
  }
  for (const line of [
    '// RFC 7662 §2.2: inactive tokens carry no other member',
    '// docs/revocation.md, "Resource servers"',
    '// Zod issues → the fields of a 400',
    '// upstream: defuse/php-encryption#230',
    "color: '#333'",
    '// bench/README.md has the measurements',
  ]) {
    t.notOk(caught(line), `left alone: ${line}`);
  }
});
