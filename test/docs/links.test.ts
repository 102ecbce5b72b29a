// The repository documents itself: every relative link in README.md and docs/*.md resolves to a
// file of this repository (and, for `#fragment`, to a heading of that page), no link leaves it
// (no URL, no path above the repository's root), and docs/README.md indexes every docs page.
// A renamed page, a moved heading or a link to a document outside the repository fails here.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const docs = readdirSync(join(root, 'docs'))
  .filter((name) => name.endsWith('.md'))
  .map((name) => `docs/${name}`);
const pages = ['README.md', ...docs];

/** The page without fenced code blocks and inline code, where `[x](y)` is not a link. */
const prose = (markdown: string) => markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');

function links(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1] as string);
}

/** GitHub's heading anchors: the rendered text, lower-cased, punctuation dropped, spaces as "-"; repeats get -1, -2… */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const found = new Set<string>();
  const withoutFences = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const [, heading] of withoutFences.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const text = (heading as string).replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*]/g, '');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    found.add(n === 0 ? base : `${base}-${n}`);
  }
  return found;
}

t.test('every link of README.md and docs/*.md stays in the repository and resolves', async (t) => {
  t.ok(docs.length >= 10, `docs/ holds the contract's pages (${docs.length} found)`);
  for (const page of pages) {
    const text = readFileSync(join(root, page), 'utf8');
    for (const link of links(text)) {
      const where = `${page}: ${link}`;
      if (/^[a-z][a-z0-9+.-]*:/i.test(link) || link.startsWith('//') || link.startsWith('/')) {
        t.fail(`${where}: links outside the repository (the repository carries its own documentation)`);
        continue;
      }
      const [path = '', fragment] = link.split('#', 2);
      const target = path === '' ? join(root, page) : resolve(dirname(join(root, page)), decodeURI(path));
      const inside = relative(root, target);
      if (inside.startsWith(`..${sep}`) || inside === '..') {
        t.fail(`${where}: leaves the repository`);
        continue;
      }
      if (!existsSync(target)) {
        t.fail(`${where}: no such file`);
        continue;
      }
      if (fragment !== undefined && statSync(target).isFile() && extname(target) === '.md') {
        t.ok(anchors(readFileSync(target, 'utf8')).has(fragment), `${where}: the heading exists`);
      } else {
        t.pass(where);
      }
    }
  }
});

t.test('docs/README.md indexes every docs page, and README.md links the index', async (t) => {
  const index = new Set(links(readFileSync(join(root, 'docs/README.md'), 'utf8')).map((l) => `docs/${l.split('#')[0]}`));
  for (const page of docs.filter((p) => p !== 'docs/README.md')) t.ok(index.has(page), `${page} is in docs/README.md`);
  t.ok(links(readFileSync(join(root, 'README.md'), 'utf8')).includes('docs/README.md'), 'README.md links docs/README.md');
});

t.test('the anchors follow GitHub: punctuation dropped, spaces as hyphens, repeats numbered', async (t) => {
  t.same(
    [...anchors('# Stopping: the drain\n## Ingress authentication: `/auth/verify` (internal port)\n## A — b\n## A — b\n')],
    ['stopping-the-drain', 'ingress-authentication-authverify-internal-port', 'a--b', 'a--b-1'],
  );
  t.same(links('[a](x.md) `[b](y.md)` [c](<z.md#q> "title")\n```\n[d](w.md)\n```\n'), ['x.md', 'z.md#q']);
});
