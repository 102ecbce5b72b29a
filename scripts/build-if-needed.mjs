// `npm start` builds first when needed: when dist/ is missing or older than any source file,
// the Prisma schema or the lock file.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const newest = (path) => {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
};

const built = existsSync('dist/server.js') ? statSync('dist/server.js').mtimeMs : 0;
const sources = Math.max(newest('src'), newest('prisma'), newest('package-lock.json'));
if (built < sources) {
  console.error('reseller-auth: building…');
  execSync('npm run build', { stdio: 'inherit' });
}
