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
/** Each pattern, why it is refused, and whether a comment may wrap it over two lines. */
const forbidden: [RegExp, string, boolean?][] = [
  [/\b[Ii]ssues?\s+#?\d+/, 'a tracker number', true],
  [/(^|[\s([{])#\d+\b/, 'a tracker number'],
  [/\b(API|STYLE|PRISMA-OFFLINE)\.md\b/, 'a document outside the repository (docs/ holds the contract)'],
  [/\.\.\/shared\b|\/work\/shared\b/, 'a path outside the repository'],
];

/** What starts a continued comment or prose line: indentation and a comment marker. */
const CONTINUATION = /^\s*(\/\/+|#+|\*+|--|\/\*+)?\s*/;

/** Not prose: lock files and images. */
const skipped = (path: string) => path === self || path === 'package-lock.json' || /\.(png|jpe?g|gif|ico|woff2?)$/.test(path);

function trackedFiles(): string[] {
  return execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
    .split('\0')
    .filter((path) => path !== '' && !skipped(path));
}

/** The offending lines of a text: their numbers (from 1) and why. */
function offendingLines(text: string): { line: number; reason: string; text: string }[] {
  const found: { line: number; reason: string; text: string }[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    // A tracker number a comment wraps over two lines ("(issue" / "// 4)") is read joined to the
    // next line's text, without its comment marker.
    const joined = `${line} ${(lines[i + 1] ?? '').replace(CONTINUATION, '')}`;
    for (const [pattern, reason, wraps] of forbidden) {
      if (pattern.test(line) || (wraps && pattern.test(joined))) {
        found.push({ line: i + 1, reason, text: line.trim().slice(0, 160) });
        break;
      }
    }
  });
  return found;
}

/** Each offending line of a file, as `path:line: reason: text`. */
function references(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(join(root, path), 'utf8');
  } catch {
    return []; // deleted in the working tree, not yet in the index
  }
  return offendingLines(text).map((o) => `${path}:${o.line}: ${o.reason}: ${o.text}`);
}

t.test('no tracked file cites a tracker number or a document outside the repository', async (t) => {
  const files = trackedFiles();
  t.ok(files.length > 100, `git ls-files lists the repository (${files.length} files)`);
  const offending = files.flatMap(references);
  t.same(offending, [], 'say what the code guarantees and why, or cite the docs/ page or the RFC section');
});

t.test('the patterns catch what they are for, and leave the rest alone', async (t) => {
  const caught = (text: string) => offendingLines(text).length > 0;
  for (const line of [
    '// Issue 8: a Passport refresh token',
    '// Bounded everything (issue 5): body size',
    '// (issues 4 and 5)',
    '// a login storm cannot starve the hot path (issue\n// 4).',
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
