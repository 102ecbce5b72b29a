// The revocation invariant's suite (docs/revocation.md), run by revocation-invariant.test.ts and
// revocation-invariant-redis-modes.test.ts: once a cut-off (a new password, a new e-mail, a
// new secret, switching the access off) or a revocation has answered 2xx, no token issued before
// it works, and no grant that started before it yields a working token. Over real HTTP, on both
// backends, and with two instances on PostgreSQL + Redis (logins on one, the admin on the other).
//
// Two kinds of trials: stochastic ones (logins and refreshes in a loop while the admin acts, many
// times, at random moments) and deterministic ones (a grant paused between its reads and its save
// while the cut-off runs to completion).
import type { Test } from 'tap';
import type { TokenStore } from '../../src/token-store/token-store.js';
import { type Backend, type TestApp, TEST_ADMIN_TOKEN, basic, build } from '../helper.js';
import type { RedisModeName } from '../redis-modes.js';

/** High limits: the trials log in with passwords that stop working, on purpose, many times. */
const NO_LOGIN_LIMITS = {
  LOGIN_MAX_FAILURES_USER: '1000000',
  LOGIN_MAX_FAILURES_USER_DAILY: '1000000',
  LOGIN_MAX_FAILURES_CLIENT_IP: '1000000',
  LOGIN_MAX_FAILURES_IP: '1000000',
};

interface Instance {
  publicUrl: string;
  adminUrl: string;
  app: TestApp;
}

interface Access {
  resellerId: string;
  clientId: string;
  clientSecret: string;
  email: string;
  password: string;
}

interface Pair {
  access_token: string;
  refresh_token: string;
}

interface Harness {
  instances: Instance[];
  rsAuth: string;
  configure(resellerId: string, changes?: Partial<Access>, via?: Instance): Promise<Access>;
  admin(method: string, path: string, via?: Instance): Promise<Response>;
  login(access: Access, via: Instance, password?: string, clientSecret?: string): Promise<Response>;
  refresh(access: Access, refreshToken: string, via: Instance): Promise<Response>;
  revoke(access: Access, token: string, via: Instance): Promise<Response>;
  /** Pairs of which some part still works: an active access token, or a refresh token that refreshes. */
  survivors(access: Access, pairs: Pair[]): Promise<string[]>;
}

let seq = 0;
const json = { 'content-type': 'application/json' };

async function harness(t: Test, backend: Backend, redisMode?: RedisModeName): Promise<Harness> {
  const first = await build(t, backend, NO_LOGIN_LIMITS, { redisMode });
  const apps = [first];
  if (backend.name === 'postgres+redis') apps.push(await build(t, backend, NO_LOGIN_LIMITS, { share: first }));
  const instances: Instance[] = [];
  for (const app of apps) instances.push({ app, ...(await app.listen()) });
  const [a] = instances as [Instance];

  const rsSecret = `rs-secret-${seq}-0123456789abcdef`;
  const rs = await first.services.resourceServers.create('DBS API', first.services.secretBox.seal(rsSecret));
  for (const app of apps) await app.services.events.publish('resource-servers');
  const rsAuth = basic(String(rs.clientId), rsSecret);

  const adminHeaders = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
  const h: Harness = {
    instances,
    rsAuth,
    async configure(resellerId, changes = {}, via = a) {
      const body = {
        name: `Revenda ${resellerId}`,
        email: changes.email ?? `api.${resellerId}@revenda.example`,
        password: changes.password ?? `senha-${resellerId}-original`,
        allowedIp: '127.0.0.0/8',
      };
      const res = await fetch(`${via.adminUrl}/admin/resellers/${resellerId}/api`, {
        method: 'PUT',
        headers: { ...adminHeaders, ...json },
        body: JSON.stringify(body),
      });
      if (res.status !== 200 && res.status !== 201) throw new Error(`PUT answered ${res.status}: ${await res.text()}`);
      const view = (await res.json()) as { clientId: string; clientSecret: string };
      return { resellerId, clientId: view.clientId, clientSecret: view.clientSecret, email: body.email, password: body.password };
    },
    admin: (method, path, via = a) => fetch(`${via.adminUrl}${path}`, { method, headers: adminHeaders }),
    login: (access, via, password = access.password, clientSecret = access.clientSecret) =>
      fetch(`${via.publicUrl}/oauth/token`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({
          grant_type: 'password',
          client_id: access.clientId,
          client_secret: clientSecret,
          username: access.email,
          password,
          scope: '',
        }),
      }),
    refresh: (access, refreshToken, via) =>
      fetch(`${via.publicUrl}/oauth/token`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({
          grant_type: 'refresh_token',
          refresh_token: refreshToken,
          client_id: access.clientId,
          client_secret: access.clientSecret,
        }),
      }),
    revoke: (access, token, via) =>
      fetch(`${via.publicUrl}/oauth/revoke`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ token, client_id: access.clientId, client_secret: access.clientSecret }),
      }),
    async survivors(access, pairs) {
      const alive: string[] = [];
      for (const [i, pair] of pairs.entries()) {
        const via = instances[i % instances.length] as Instance;
        const introspected = await fetch(`${via.publicUrl}/oauth/introspect`, {
          method: 'POST',
          headers: { ...json, authorization: rsAuth },
          body: JSON.stringify({ token: pair.access_token }),
        });
        if (introspected.status !== 200) throw new Error(`introspection answered ${introspected.status}`);
        if (((await introspected.json()) as { active: boolean }).active) alive.push(`access token ${i}`);
        const refreshed = await h.refresh(access, pair.refresh_token, via);
        if (refreshed.status === 200) alive.push(`refresh token ${i}`);
        else await refreshed.body?.cancel();
      }
      return alive;
    },
  };
  return h;
}

/** Pauses the next savePair of `store` (after the grant's reads, before its write) until released. */
function pauseNextSave(store: TokenStore): { reached: Promise<void>; release(): void } {
  const original = store.savePair;
  let reached!: () => void;
  let release!: () => void;
  const reachedP = new Promise<void>((r) => {
    reached = r;
  });
  const gate = new Promise<void>((r) => {
    release = r;
  });
  store.savePair = async (pair, generation) => {
    store.savePair = original;
    reached();
    await gate;
    return original.call(store, pair, generation);
  };
  return { reached: reachedP, release };
}

interface Answer {
  status: number;
  body: { clientSecret?: string } | null;
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Answer['body']) : null };
}

/** The credentials a reseller holds after the cut-off (a rotation hands out a new secret). */
const after = (access: Access, cut: Answer): Access => ({ ...access, clientSecret: cut.body?.clientSecret ?? access.clientSecret });

const random = (n: number) => Math.floor(Math.random() * n);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `loops` reseller-software loops (log in, sometimes refresh what it got) on every instance
 * in turn until `cutOff` has answered, and collects every pair any of them obtained, including
 * those of grants that were in flight when the cut-off answered.
 */
async function raceAgainst(
  h: Harness,
  access: Access,
  cutOff: () => Promise<Answer>,
): Promise<{ pairs: Pair[]; answer: Answer; overlapping: number }> {
  const pairs: Pair[] = [];
  let stopped = false;
  let cutOffStarted = Number.POSITIVE_INFINITY;
  let overlapping = 0;
  const loop = async (n: number) => {
    for (let i = 0; !stopped; i++) {
      const via = h.instances[(n + i) % h.instances.length] as Instance;
      const started = performance.now();
      const res = await h.login(access, via);
      if (started < cutOffStarted && performance.now() > cutOffStarted) overlapping++;
      if (res.status !== 200) {
        await res.body?.cancel();
        continue;
      }
      const pair = (await res.json()) as Pair;
      pairs.push(pair);
      if (random(2) === 0) {
        const refreshed = await h.refresh(access, pair.refresh_token, h.instances[(n + i + 1) % h.instances.length] as Instance);
        if (refreshed.status === 200) pairs.push((await refreshed.json()) as Pair);
        else await refreshed.body?.cancel();
      }
    }
  };
  const loops = [0, 1, 2].map(loop);
  // The cut-off lands at a random moment once the loops are under way (a login takes an argon2id).
  for (let i = 0; i < 1000 && pairs.length === 0; i++) await sleep(5);
  await sleep(random(60));
  cutOffStarted = performance.now();
  const answer = await cutOff();
  stopped = true;
  await Promise.all(loops);
  return { pairs, answer, overlapping };
}

/** `scale` < 1 runs fewer stochastic trials (the extra Redis modes repeat what one server proved). */
export async function revocationInvariantSuite(t: Test, backend: Backend, redisMode?: RedisModeName, scale = 1): Promise<void> {
  const h = await harness(t, backend, redisMode);
  const trials = (n: number) => Math.max(2, Math.round(n * scale));
  const [a] = h.instances as [Instance];
  const b = h.instances[h.instances.length - 1] as Instance;
  const next = () => `inv${++seq}${Math.random().toString(36).slice(2, 6)}`;

  const cutOffs: [string, number, (access: Access) => Promise<Answer>][] = [
    [
      'a new password',
      trials(20),
      async (access) =>
        answer(
          await fetch(`${a.adminUrl}/admin/resellers/${access.resellerId}/api`, {
            method: 'PUT',
            headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...json },
            body: JSON.stringify({ name: 'Revenda', email: access.email, password: `${access.password}-nova`, allowedIp: '127.0.0.0/8' }),
          }),
        ),
    ],
    ['switching the access off', trials(10), async (access) => answer(await h.admin('DELETE', `/admin/resellers/${access.resellerId}/api`))],
    [
      'a new e-mail',
      trials(5),
      async (access) =>
        answer(
          await fetch(`${a.adminUrl}/admin/resellers/${access.resellerId}/api`, {
            method: 'PUT',
            headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...json },
            body: JSON.stringify({ name: 'Revenda', email: `moved.${access.email}`, allowedIp: '127.0.0.0/8' }),
          }),
        ),
    ],
    ['a new client secret', trials(5), async (access) => answer(await h.admin('POST', `/admin/resellers/${access.resellerId}/api/secret`))],
  ];

  for (const [what, trials, cutOff] of cutOffs) {
    t.test(`stochastic: after ${what} answers 2xx, no token from before it or from a grant in flight works (${trials} trials)`, async (t) => {
      let issued = 0;
      let overlapping = 0;
      const survivors: string[] = [];
      for (let trial = 0; trial < trials; trial++) {
        const access = await h.configure(next());
        const race = await raceAgainst(h, access, () => cutOff(access));
        t.ok(race.answer.status >= 200 && race.answer.status < 300, `${what}: ${race.answer.status}`);
        issued += race.pairs.length;
        overlapping += race.overlapping;
        for (const s of await h.survivors(after(access, race.answer), race.pairs)) survivors.push(`trial ${trial}: ${s}`);
        if (what === 'switching the access off') {
          // Switching it on again must not revive a refresh token from before (docs/admin-api.md: same client, same secret).
          await h.configure(access.resellerId, { email: access.email, password: access.password });
          for (const s of await h.survivors(access, race.pairs)) survivors.push(`trial ${trial}, switched on again: ${s}`);
        }
      }
      t.ok(issued >= trials, `tokens were issued before the cut-off (${issued})`);
      t.ok(overlapping > 0, `logins were in flight when the cut-off started (${overlapping})`);
      t.same(survivors, [], 'no survivor');
    });
  }

  const races = [
    [trials(40), 2],
    [trials(10), 5],
  ] as const;
  t.test(
    `stochastic: parallel refreshes of one refresh token leave the whole family dead (${races.map(([n, k]) => `${n} trials of ${k}`).join(', ')})`,
    async (t) => {
      const access = await h.configure(next());
      const survivors: string[] = [];
      let winners = 0;
      for (const [count, parallel] of races) {
        for (let trial = 0; trial < count; trial++) {
          const login = await h.login(access, a);
          const first = (await login.json()) as Pair;
          const results = await Promise.all(
            Array.from({ length: parallel }, (_, i) => h.refresh(access, first.refresh_token, h.instances[i % h.instances.length] as Instance)),
          );
          const pairs = [first];
          for (const res of results) {
            if (res.status === 200) {
              winners++;
              pairs.push((await res.json()) as Pair);
            } else {
              const body = (await res.json()) as { error: string };
              if (body.error !== 'invalid_grant') survivors.push(`trial ${trial}: a loser answered ${res.status} ${body.error}`);
            }
          }
          for (const s of await h.survivors(access, pairs)) survivors.push(`${parallel} in parallel, trial ${trial}: ${s}`);
        }
      }
      t.same(survivors, [], 'reuse revoked the whole family every time, whoever won');
      t.comment(`${winners} refreshes answered 200 before the reuse killed their family`);
    },
  );

  for (const [what, , cutOff] of cutOffs) {
    t.test(`deterministic: a login paused between reading the user and saving its pair while ${what} runs gets nothing`, async (t) => {
      const access = await h.configure(next());
      const before = (await (await h.login(access, b)).json()) as Pair;
      const pause = pauseNextSave(b.app.services.tokenStore);
      const login = h.login(access, b);
      await pause.reached;
      const cut = await cutOff(access);
      t.ok(cut.status >= 200 && cut.status < 300, `${what} answered ${cut.status}`);
      pause.release();
      const late = await login;
      t.equal(late.status, 400, 'the paused login is refused');
      t.match(await late.json(), { error: 'invalid_grant' });
      t.same(await h.survivors(after(access, cut), [before]), [], 'the pair from before is dead');
    });
  }

  t.test('deterministic: a refresh paused before its save while the access is switched off gets nothing', async (t) => {
    const access = await h.configure(next());
    const first = (await (await h.login(access, a)).json()) as Pair;
    const pause = pauseNextSave(b.app.services.tokenStore);
    const refresh = h.refresh(access, first.refresh_token, b);
    await pause.reached;
    t.equal((await h.admin('DELETE', `/admin/resellers/${access.resellerId}/api`)).status, 204);
    pause.release();
    const late = await refresh;
    t.equal(late.status, 400);
    t.match(await late.json(), { error: 'invalid_grant', hint: 'Token has been revoked' });
    await h.configure(access.resellerId, { email: access.email, password: access.password });
    t.same(await h.survivors(access, [first]), [], 'switched on again: nothing from before works');
  });

  t.test('deterministic: RFC 7009 revocation of a refresh token while its refresh is in flight kills what the refresh issues', async (t) => {
    const access = await h.configure(next());
    const first = (await (await h.login(access, a)).json()) as Pair;
    const pause = pauseNextSave(b.app.services.tokenStore);
    const refresh = h.refresh(access, first.refresh_token, b);
    await pause.reached;
    const revoked = await h.revoke(access, first.refresh_token, a);
    t.equal(revoked.status, 200, 'the revocation answers 200');
    pause.release();
    const late = await refresh;
    t.equal(late.status, 400, 'the refresh in flight is refused');
    t.match(await late.json(), { error: 'invalid_grant' });
    t.same(await h.survivors(access, [first]), []);
  });

  t.test('deterministic: the winner of two refreshes, paused before its save, is refused once the loser saw the reuse', async (t) => {
    const access = await h.configure(next());
    const first = (await (await h.login(access, a)).json()) as Pair;
    const pause = pauseNextSave(b.app.services.tokenStore);
    const winner = h.refresh(access, first.refresh_token, b);
    await pause.reached;
    const loser = await h.refresh(access, first.refresh_token, a);
    t.equal(loser.status, 400, 'the loser sees the reuse');
    t.match(await loser.json(), { error: 'invalid_grant' });
    pause.release();
    const late = await winner;
    t.equal(late.status, 400, 'the winner is refused too');
    t.match(await late.json(), { error: 'invalid_grant', hint: 'Token has been revoked' });
    t.same(await h.survivors(access, [first]), []);
  });

  t.test('a grant that starts after the cut-off answered is not affected', async (t) => {
    const access = await h.configure(next());
    const cut = (await cutOffs[3]?.[2](access)) as Answer;
    const login = await h.login(access, b, access.password, cut.body?.clientSecret);
    t.equal(login.status, 200, 'the new secret logs in at once, on any instance');
  });
}
