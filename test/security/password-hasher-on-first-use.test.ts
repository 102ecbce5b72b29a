// startedOnFirstUse: the ops CLI's hasher, whose threads start with the first hash or
// verification, so that a command that hashes nothing starts none. The pool it starts is
// createPasswordHasher's (password-hasher.test.ts); here, when it is started and closed.
import t from 'tap';
import { type PasswordHasher, createPasswordHasher, startedOnFirstUse } from '../../src/security/password-hasher.js';

t.test('nothing starts until the first hash; then one pool serves every call, and close closes it', async (t) => {
  const pools: PasswordHasher[] = [];
  let closed = 0;
  const hasher = startedOnFirstUse(async () => {
    const pool = await createPasswordHasher({ concurrency: 1, niceness: 0 });
    pools.push(pool);
    return {
      ...pool,
      async close() {
        closed += 1;
        await pool.close();
      },
    };
  });
  t.teardown(() => (closed === 0 ? Promise.all(pools.map((p) => p.close())) : undefined));
  t.equal(pools.length, 0, 'no pool yet');
  t.equal(hasher.needsRehash('$2y$10$abc'), true, 'needsRehash needs no thread');
  t.equal(pools.length, 0, 'still none');

  const [hash, again] = await Promise.all([hasher.hash('senha-da-revenda'), hasher.hash('senha-da-revenda')]);
  t.equal(pools.length, 1, 'two hashes at once start one pool');
  t.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  t.not(again, hash);
  t.equal(await hasher.verify(hash, 'senha-da-revenda'), true);
  t.equal(await hasher.verify(hash, 'outra-senha'), false);
  t.equal(await hasher.verify(undefined, 'senha-da-revenda'), false, 'an unknown user never matches');
  t.equal(hasher.verifications, 3);
  t.equal(pools.length, 1);
  await hasher.close();
  t.equal(closed, 1, 'close closed the pool');
});

t.test('close before any use starts nothing; a failed start fails the call and leaves nothing to close', async (t) => {
  let starts = 0;
  const unused = startedOnFirstUse(async () => {
    starts += 1;
    throw new Error('unreachable');
  });
  await unused.close();
  t.equal(starts, 0, 'closing an unused hasher starts no thread');

  const failing = startedOnFirstUse(async () => {
    starts += 1;
    throw new Error('the hashing thread did not start');
  });
  await t.rejects(failing.hash('senha-da-revenda'), { message: 'the hashing thread did not start' });
  t.equal(starts, 1);
  await t.resolves(failing.close(), 'close after a failed start');
});
