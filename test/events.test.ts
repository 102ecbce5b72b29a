// Change notifications between instances (src/events.ts): in-process, and Redis pub/sub across
// connections on each Redis mode (one server, Sentinel, Cluster: test/redis-modes.ts; failovers
// are in test/redis/failover.test.ts) — including a subscriber that starts while Redis is unreachable and one whose
// connection drops, which must both resubscribe by themselves and tell their listeners to resync.
import { randomBytes } from 'node:crypto';
import { type Server, type Socket, connect, createServer } from 'node:net';
import type { Redis } from 'ioredis';
import t from 'tap';
import { type ChangeEvents, createLocalEvents, createRedisEvents } from '../src/events.js';
import { createRedisClient, waitUntilReady } from '../src/redis/connection.js';
import { REDIS_MODES, connectRedis, lockRedisServers } from './redis-modes.js';

/** Resolves once `condition` holds; fails after `ms` (checked every 20 ms). */
async function waitFor(condition: () => boolean, ms: number, what: string): Promise<number> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
}

t.test('in-process: every listener of the topic, only that topic; a throwing listener stops nothing', async (t) => {
  const errors: Error[] = [];
  const events = createLocalEvents((err) => errors.push(err));
  const calls: string[] = [];
  events.subscribe('resource-servers', () => calls.push('a'));
  events.subscribe('resource-servers', () => {
    throw new Error('listener failed');
  });
  events.subscribe('resource-servers', () => calls.push('c'));
  events.subscribe('clients', () => calls.push('clients'));
  await events.publish('resource-servers');
  t.same(calls, ['a', 'c'], 'both other listeners of the topic ran, synchronously');
  t.same(
    errors.map((e) => e.message),
    ['listener failed'],
    'the failure is reported',
  );
  await events.close();
  await events.publish('resource-servers');
  t.same(calls, ['a', 'c'], 'nothing after close');
});

const url = process.env.TEST_REDIS_URL;

/** A TCP proxy in front of the test Redis that can be stopped (connections cut) and started again on the same port. */
class RedisProxy {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  constructor(
    readonly port: number,
    private readonly target: URL,
  ) {}

  static async onFreePort(target: URL): Promise<RedisProxy> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    return new RedisProxy(port, target);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.#server = createServer((client) => {
      const upstream = connect(Number(this.target.port), this.target.hostname);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.#server?.listen(this.port, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}

t.test('Redis pub/sub', { skip: url ? false : 'TEST_REDIS_URL is not set: Redis pub/sub suite skipped' }, async (t) => {
  const target = new URL(url as string);
  const prefix = `ev${randomBytes(4).toString('hex')}:`;
  const clients: Redis[] = [];
  const instances: ChangeEvents[] = [];
  t.teardown(async () => {
    for (const events of instances) await events.close();
    for (const redis of clients) redis.disconnect();
  });

  const instance = async (redisUrl: string, channelPrefix = prefix, errors: Error[] = []) => {
    const redis = createRedisClient(redisUrl);
    clients.push(redis);
    const events = createRedisEvents(redis, channelPrefix, (err) => errors.push(err));
    instances.push(events);
    return { redis, events, errors };
  };

  t.test('a publish on one connection reaches every instance on the prefix, and no other prefix', async (t) => {
    const a = await instance(url as string);
    const b = await instance(url as string);
    const other = await instance(url as string, `${prefix}other:`);
    const seen = { a: 0, b: 0, other: 0, clients: 0 };
    a.events.subscribe('resource-servers', () => seen.a++);
    b.events.subscribe('resource-servers', () => seen.b++);
    b.events.subscribe('clients', () => seen.clients++);
    other.events.subscribe('resource-servers', () => seen.other++);
    // Every subscriber tells its listeners to resync once it is subscribed: wait for that first.
    await waitFor(() => seen.a === 1 && seen.b === 1 && seen.other === 1 && seen.clients === 1, 5000, 'the initial resync');
    await a.events.publish('resource-servers');
    t.equal(seen.a, 2, 'the publishing instance learns at once');
    const ms = await waitFor(() => seen.b === 2, 2000, 'the other instance');
    t.pass(`delivered to the other instance in ${ms} ms`);
    await b.events.publish('clients');
    t.equal(seen.clients, 2, 'the clients topic');
    // Time for any stray delivery (an echo to the sender, another topic or prefix) to show up.
    await new Promise((r) => setTimeout(r, 300));
    t.same(seen, { a: 2, b: 2, other: 1, clients: 2 }, 'no echo to the sender; topics and prefixes are separate');
  });

  t.test('a subscriber started while Redis is unreachable subscribes once it is back', async (t) => {
    const proxy = await RedisProxy.onFreePort(target);
    t.teardown(() => proxy.stop());
    const late = await instance(proxy.url);
    const publisher = await instance(url as string);
    let seen = 0;
    late.events.subscribe('resource-servers', () => seen++);
    // Longer than maxRetriesPerRequest reconnect attempts: a SUBSCRIBE queued offline would be flushed by now.
    await new Promise((r) => setTimeout(r, 1500));
    t.equal(seen, 0, 'nothing while unreachable');
    await proxy.start();
    await waitFor(() => seen === 1, 10_000, 'the resync after connecting');
    t.pass('listeners told to resync once subscribed');
    await publisher.events.publish('resource-servers');
    await waitFor(() => seen === 2, 2000, 'a message published after the connection');
    t.pass('later messages are delivered');
  });

  t.test('after a dropped connection the subscriber resubscribes and listeners resync', async (t) => {
    const proxy = await RedisProxy.onFreePort(target);
    await proxy.start();
    t.teardown(() => proxy.stop());
    const flaky = await instance(proxy.url);
    const publisher = await instance(url as string);
    let seen = 0;
    flaky.events.subscribe('resource-servers', () => seen++);
    await waitFor(() => seen === 1, 5000, 'the first subscription');
    await proxy.stop();
    // Missed: published while the connection is down.
    await publisher.events.publish('resource-servers');
    await new Promise((r) => setTimeout(r, 300));
    t.equal(seen, 1, 'the message sent during the outage is lost, as pub/sub does');
    await proxy.start();
    await waitFor(() => seen === 2, 10_000, 'the resync after reconnecting');
    t.pass('the reconnection made up for the lost message');
    await publisher.events.publish('resource-servers');
    await waitFor(() => seen === 3, 2000, 'a message after the reconnection');
    t.pass('subscribed again');
  });

  t.test('publish never rejects while Redis is down: the change is durable, the failure reported', async (t) => {
    const proxy = await RedisProxy.onFreePort(target);
    const down = await instance(proxy.url);
    let seen = 0;
    down.events.subscribe('resource-servers', () => seen++);
    await t.resolves(down.events.publish('resource-servers'), 'resolves');
    t.equal(seen, 1, 'this instance still learns of its own change');
    t.equal(down.errors.length, 1, 'the failed publish is reported');
    t.match(down.errors[0]?.message, /Stream isn't writeable|Connection is closed|enableOfflineQueue/);
  });

  t.test('the publisher connection is usable as a normal client meanwhile', async (t) => {
    const a = await instance(url as string);
    await waitUntilReady(a.redis, 5000);
    a.events.subscribe('clients', () => {});
    t.equal(await a.redis.ping(), 'PONG', 'the subscriber is a connection of its own');
  });
});

for (const mode of REDIS_MODES) {
  t.test(`${mode.mode}: a publish reaches the other instances, not the publisher twice`, { skip: mode.skip }, async (t) => {
    if (mode.mode !== 'standalone') await lockRedisServers(t);
    // Two instances, each with a client of its own, on one channel prefix.
    const a = await connectRedis(t, mode);
    const b = await connectRedis(t, mode);
    const errors: Error[] = [];
    const ea = createRedisEvents(a.redis, a.prefix, (err) => errors.push(err));
    const eb = createRedisEvents(b.redis, a.prefix, (err) => errors.push(err));
    t.teardown(async () => {
      await ea.close();
      await eb.close();
    });
    const seen = { a: 0, b: 0 };
    ea.subscribe('clients', () => seen.a++);
    eb.subscribe('clients', () => seen.b++);
    await waitFor(() => seen.a === 1 && seen.b === 1, 10_000, 'the initial resync');
    await ea.publish('clients');
    t.equal(seen.a, 2, 'the publisher learns at once');
    const ms = await waitFor(() => seen.b === 2, 5000, 'the other instance');
    t.pass(`delivered in ${ms} ms`);
    await eb.publish('clients');
    await waitFor(() => seen.a === 3, 5000, 'the way back');
    await new Promise((r) => setTimeout(r, 300));
    t.same(seen, { a: 3, b: 3 }, 'each message once per instance');
    t.same(errors, []);
  });
}
