// The password hasher: argon2id on its own threads, HASH_CONCURRENCY of them at HASH_NICENESS,
// Passport's bcrypt hashes verified beside argon2id, and the re-hash rule. One pool per group.
import { hashSync } from '@node-rs/argon2';
import bcrypt from 'bcrypt';
import t from 'tap';
import { ARGON2_PARAMS } from '../../src/security/argon2-params.js';
import { type PasswordHasher, createPasswordHasher } from '../../src/security/password-hasher.js';
import { waitFor } from '../faults/dedicated-servers.js';
import { threadNiceness } from '../helper.js';

t.test('hashes and verifies argon2id, and bcrypt as Passport wrote it', async (t) => {
  const hasher = await createPasswordHasher({ concurrency: 2, niceness: 10 });
  t.teardown(() => hasher.close());

  const hash = await hasher.hash('correct horse battery staple');
  t.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/, 'argon2id with the current parameters');
  t.not(await hasher.hash('correct horse battery staple'), hash, 'a fresh salt each time');
  t.equal(await hasher.verify(hash, 'correct horse battery staple'), true);
  t.equal(await hasher.verify(hash, 'correct horse battery stapler'), false);

  // Laravel's $2y$ is bcrypt's $2b$ under another name.
  const laravel = bcrypt.hashSync('secret from Passport', 4).replace(/^\$2b\$/, '$2y$');
  t.equal(await hasher.verify(laravel, 'secret from Passport'), true, 'a $2y$ hash verifies');
  t.equal(await hasher.verify(laravel, 'something else'), false);

  for (const stored of ['', 'plain text', '$argon2id$v=19$m=19456,t=2,p=1$short$short', '$2y$10$tooshort', '$1$md5$crypt'])
    t.equal(await hasher.verify(stored, 'plain text'), false, `a malformed stored value verifies nothing: ${JSON.stringify(stored)}`);
});

t.test('an unknown user costs one verification and never matches', async (t) => {
  const hasher = await createPasswordHasher({ concurrency: 1, niceness: 0 });
  t.teardown(() => hasher.close());
  const before = hasher.verifications;
  t.equal(await hasher.verify(undefined, 'dummy password that never matches'), false, 'not even the dummy password itself');
  t.equal(hasher.verifications, before + 1);
});

t.test('needsRehash: anything but argon2id v19 with exactly the current parameters', async (t) => {
  const hasher = await createPasswordHasher({ concurrency: 1, niceness: 0 });
  t.teardown(() => hasher.close());
  t.equal(hasher.needsRehash(await hasher.hash('x')), false, 'a hash of its own');
  t.equal(hasher.needsRehash(hashSync('x', ARGON2_PARAMS)), false);
  // The `argon2` package writes the same parameters in another order: no re-hash on every login.
  t.equal(hasher.needsRehash('$argon2id$v=19$m=19456,p=1,t=2$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g'), false, 'm,p,t order');
  for (const hash of [
    '$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaA', // other parameters
    '$argon2id$v=19$m=19456,t=2$c2FsdHNhbHRzYWx0$aGFzaA', // a parameter missing
    '$argon2id$v=19$m=19456,t=2,p=1,x=1$c2FsdHNhbHRzYWx0$aGFzaA', // one too many
    '$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaA', // version 1.0
    '$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaA', // argon2i
    bcrypt.hashSync('x', 4).replace(/^\$2b\$/, '$2y$'), // Passport's bcrypt
    '',
  ])
    t.equal(hasher.needsRehash(hash), true, hash);
});

t.test(
  'HASH_CONCURRENCY threads hash at HASH_NICENESS; the event loop keeps its priority',
  { skip: process.platform !== 'linux' && 'per-thread nice values are a Linux feature' },
  async (t) => {
    const before = threadNiceness();
    const hashers: PasswordHasher[] = [];
    t.teardown(() => Promise.all(hashers.map((h) => h.close())));
    hashers.push(await createPasswordHasher({ concurrency: 3, niceness: 12 }));
    // The pool starts its threads together; the first to load has computed the dummy hash, the
    // others may still be loading (each sets its priority before it takes any task).
    const niced = () => [...threadNiceness()].filter(([tid, nice]) => !before.has(tid) && nice === 12).length;
    await waitFor('three hashing threads at nice 12', async () => niced() === 3, 10_000);
    t.equal(niced(), 3, 'three new threads at nice 12: the hashing threads (Node may start others, at the default)');
    t.equal(threadNiceness().get(String(process.pid)), before.get(String(process.pid)), 'the main thread is untouched');

    const zero = threadNiceness();
    hashers.push(await createPasswordHasher({ concurrency: 1, niceness: 0 }));
    // concurrency 1: the thread that computed the dummy hash is the pool's only one.
    const plain = [...threadNiceness()].filter(([tid]) => !zero.has(tid));
    t.ok(plain.length >= 1 && plain.every(([, nice]) => nice === 0), 'HASH_NICENESS=0: the hashing thread at the default priority');
  },
);

t.test('a bounded pool: HASH_CONCURRENCY=1 runs one hash at a time', async (t) => {
  const hasher = await createPasswordHasher({ concurrency: 1, niceness: 0 });
  t.teardown(() => hasher.close());
  const hash = await hasher.hash('p');
  // The fastest of three single verifications: a slow one (a busy machine) cannot hide the queue.
  let single = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    await hasher.verify(hash, 'p');
    single = Math.min(single, performance.now() - start);
  }
  const start = performance.now();
  t.same(await Promise.all([1, 2, 3].map(() => hasher.verify(hash, 'p'))), [true, true, true]);
  t.ok(performance.now() - start > single * 2, 'three verifications at once take at least twice as long as one: they queue');
});
