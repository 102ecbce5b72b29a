// docs/revocation.md, for the Passport import: a cut-off an import commits (here a password
// changed in Passport) is recorded as pending in the batch's transaction, so that when the
// revocation after the commit fails the run fails (exit 69), and the next run — which finds the
// row already changed — still revokes before it reports success; a dry run only lists it. Two
// completers of one pending cut-off (an admin PUT and an import) both succeed, and a completer
// never clears a cut-off recorded after it read the mark. Tokens are checked by introspection
// over real HTTP. Embedded defaults and PostgreSQL + Redis; the Passport source is PostgreSQL.
import t, { type Test } from 'tap';
import { EXIT, explain } from '../../src/cli/failures.js';
import { DependencyUnavailableError } from '../../src/errors.js';
import type { PendingCutOff } from '../../src/repositories/resellers-repository.js';
import type { CutOffHooks } from '../../src/security/cut-off.js';
import { importDeps } from '../../src/passport/import-deps.js';
import { importPassport } from '../../src/passport/importer.js';
import { TEST_ADMIN_TOKEN, type TestApp, basic, build, eachBackend, passwordGrantBody } from '../helper.js';
import { type ResourceServer, registerResourceServer } from '../faults/requests.js';
import { failRevocationAfterCommit, tokenStoreDown } from '../token-store-outage.js';
import {
  POSTGRES_URL,
  type PassportWorld,
  type SourceDb,
  createPostgresSource,
  importOptions,
  laravelHash,
  seedPassport,
} from './passport-fixtures.js';

const skip = POSTGRES_URL ? false : 'TEST_DATABASE_URL is not set: the import cut-off suite is skipped';

const WHY = 'an earlier run or admin call committed it, then could not revoke';
const COMPLETED = `reseller 6: cut-off completed, its tokens revoked (${WHY})`;

/** A point a completer stops at until the test lets it go on. */
function gate() {
  let reach: () => void = () => {};
  let release: () => void = () => {};
  const reached = new Promise<void>((resolve) => (reach = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  const stop = async (): Promise<void> => {
    reach();
    await released;
  };
  return { reached, release, stop };
}

eachBackend(t, async (t, backend) => {
  t.test('cut-offs of the Passport import', { skip }, async (t) => {
    const source: SourceDb = await createPostgresSource(t);
    const world: PassportWorld = await seedPassport(source);
    const ctx: TestApp = await build(t, backend);
    const prisma = ctx.services.db.prisma;
    const run = (over: Parameters<typeof importOptions>[1] = {}, hooks: CutOffHooks = {}) =>
      importPassport(importOptions(source.url, over), importDeps(ctx.services, hooks));
    t.equal((await run()).committed, true, 'the first import');
    const rs: ResourceServer = await registerResourceServer(ctx);
    const { publicUrl } = await ctx.listen();

    let password = world.seis.password;
    /** Reseller 6 logs in with its current password: a token pair of ours. */
    const login = async (): Promise<{ access_token: string; refresh_token: string }> => {
      const res = await ctx.publicApp.inject({
        method: 'POST',
        url: '/oauth/token',
        remoteAddress: '127.0.0.1',
        payload: passwordGrantBody(world.seis, { password }),
      });
      if (res.statusCode !== 200) throw new Error(res.body);
      return res.json();
    };
    /** RFC 7662 over real HTTP, as the DBS API asks. */
    const active = async (token: string): Promise<boolean> => {
      const res = await fetch(`${publicUrl}/oauth/introspect`, {
        method: 'POST',
        headers: { authorization: basic(rs.clientId, rs.secret), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }),
      });
      if (res.status !== 200) throw new Error(`introspection answered ${res.status}`);
      return ((await res.json()) as { active: boolean }).active;
    };
    const pending = async () => (await prisma.reseller.findUniqueOrThrow({ where: { resellerId: '6' } })).cutOffPending;
    /** Passport gets a new password for reseller 6, and an import whose revocation fails takes it: a pending cut-off. */
    const failedImport = async (t: Test) => {
      password = `${world.seis.password}-${Math.random().toString(36).slice(2)}`;
      await source.exec('UPDATE users SET password = ? WHERE id = ?', [await laravelHash(password), world.seis.userId]);
      const restore = await tokenStoreDown(ctx.services);
      let failure: unknown;
      try {
        await run().catch((err: unknown) => (failure = err));
      } finally {
        await restore();
      }
      t.type(failure, DependencyUnavailableError, 'the run fails');
      t.equal((explain(failure, ctx.config) as { exitCode?: number }).exitCode, EXIT.unavailable, 'the CLI exits 69');
      t.equal(await pending(), true, 'the cut-off is committed and pending');
    };

    await t.test('a revocation that fails after the commit fails the run; a re-run, finding nothing to change, still revokes', async (t) => {
      const before = await login();
      t.equal(await active(before.access_token), true);
      await failedImport(t);
      t.equal(await active(before.access_token), true, 'the token from before the cut-off is still active while it is pending');

      const dry = await run({ dryRun: true });
      t.same(dry.changes, [`reseller 6: cut-off pending (${WHY}): a real run revokes its tokens`], 'a dry run lists it');
      t.same([await pending(), await active(before.access_token)], [true, true], 'and writes nothing');

      const again = await run();
      t.same([again.committed, again.conflicts, again.changes], [true, [], [COMPLETED]]);
      t.equal(await active(before.access_token), false, 'no token from before the cut-off works');
      const refresh = await ctx.publicApp.inject({
        method: 'POST',
        url: '/oauth/token',
        payload: { grant_type: 'refresh_token', client_id: '19', client_secret: world.seis.clientSecret, refresh_token: before.refresh_token },
      });
      t.same([refresh.statusCode, refresh.json().error], [400, 'invalid_grant'], 'its refresh token neither');
      const passportToken = await prisma.legacyAccessToken.findUniqueOrThrow({ where: { id: world.tokens.seis } });
      t.equal(passportToken.revoked, true, "the reseller's imported Passport tokens are revoked too");
      t.equal(await pending(), false);
      t.same((await run()).changes, [], 'a further run has nothing left to do');
      t.equal(await active((await login()).access_token), true, 'the new password logs in');
    });

    await t.test('two completers of one pending cut-off: an admin PUT while an import re-run is paused before it revokes', async (t) => {
      const before = await login();
      await failedImport(t);
      const paused = gate();
      const rerun = run({}, { afterRead: async (marks: PendingCutOff[]) => void (marks.some((m) => m.resellerId === '6') && (await paused.stop())) });
      await paused.reached;
      const view = (
        await ctx.adminApp.inject({ method: 'GET', url: '/admin/resellers/6/api', headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })
      ).json();
      const put = await ctx.adminApp.inject({
        method: 'PUT',
        url: '/admin/resellers/6/api',
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
        payload: { name: view.name, email: view.email, allowedIp: view.allowedIp },
      });
      t.equal(put.statusCode, 200, 'the admin PUT, changing nothing, completes it');
      t.same([await pending(), await active(before.access_token)], [false, false]);
      paused.release();
      const report = await rerun;
      t.same([report.committed, report.changes], [true, [COMPLETED]], 'the import completes it again, without an error');
      t.same([await pending(), await active(before.access_token)], [false, false]);
    });

    await t.test('a completer does not clear a cut-off recorded after it read the mark', async (t) => {
      await failedImport(t);
      // The import re-run revokes, then stops before clearing the mark it read.
      const paused = gate();
      const rerun = run({}, { beforeClear: async (mark: PendingCutOff) => void (mark.resellerId === '6' && (await paused.stop())) });
      await paused.reached;
      // Meanwhile an admin changes the password: a login that read the old row gets a token between
      // the call's first revocation and its commit, and the revocation after the commit fails (503).
      let meanwhile: { access_token: string } | undefined;
      const restore = failRevocationAfterCommit(ctx.services, async () => {
        meanwhile = await login();
      });
      const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
      const view = (await ctx.adminApp.inject({ method: 'GET', url: '/admin/resellers/6/api', headers: auth })).json();
      const body = { name: view.name, email: view.email, allowedIp: view.allowedIp, password: 'senha-trocada-aqui' };
      let first: Awaited<ReturnType<typeof ctx.adminApp.inject>>;
      try {
        first = await ctx.adminApp.inject({ method: 'PUT', url: '/admin/resellers/6/api', headers: auth, payload: body });
      } finally {
        restore();
      }
      t.equal(first.statusCode, 503, 'the admin call committed, then could not revoke');
      paused.release();
      t.same((await rerun).changes, [COMPLETED]);
      t.equal(await pending(), true, "the admin call's cut-off, recorded after the import read the mark, stays pending");
      t.equal(await active(meanwhile?.access_token ?? ''), true, 'its token from before it is not revoked yet');
      const again = await ctx.adminApp.inject({ method: 'PUT', url: '/admin/resellers/6/api', headers: auth, payload: body });
      t.equal(again.statusCode, 200, 'repeating the call completes it');
      t.same([await pending(), await active(meanwhile?.access_token ?? '')], [false, false]);
    });
  });
});
