// Change notifications between instances (a removed resource server or a rotated secret must be
// seen by every instance promptly: docs/resource-servers.md, "Several instances"). Redis pub/sub when Redis is configured, in any
// of its modes (a subscriber connection of its own, as Redis requires: src/redis/subscriber.ts);
// in-process otherwise, where there is only one instance.
//
// Pub/sub is fire-and-forget: a message published while an instance is disconnected never
// reaches it. So every (re)connection of the subscriber tells the listeners to resynchronise,
// and listeners must keep a periodic reload of their own as the last safety net.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { RedisClient } from './redis/connection.js';
import { createSubscriber } from './redis/subscriber.js';

export type ChangeTopic = 'resource-servers' | 'clients';

export interface ChangeEvents {
  /**
   * Tells every instance (this one at once, the others through Redis) that something of `topic`
   * changed. Never rejects:
   * the change itself is already durable, and an instance that misses the notification catches
   * up through its periodic reload; a failed publish is reported to `onError`.
   */
  publish(topic: ChangeTopic): Promise<void>;
  /** `listener` runs on every notification, and after every reconnection (messages may have been missed). */
  subscribe(topic: ChangeTopic, listener: () => void): void;
  close(): Promise<void>;
}

/** Calls every listener of `topic`; one that throws neither stops the others nor the caller. */
function notify(emitter: EventEmitter, topic: string, onError: (err: Error) => void): void {
  for (const listener of emitter.listeners(topic) as (() => void)[]) {
    try {
      listener();
    } catch (err) {
      onError(err instanceof Error ? err : new Error(String(err)));
    }
  }
}

export function createLocalEvents(onError: (err: Error) => void = () => {}): ChangeEvents {
  const emitter = new EventEmitter();
  return {
    async publish(topic) {
      notify(emitter, topic, onError);
    },
    subscribe(topic, listener) {
      emitter.on(topic, listener);
    },
    async close() {
      emitter.removeAllListeners();
    },
  };
}

export function createRedisEvents(publisher: RedisClient, channelPrefix: string, onError: (err: Error) => void = () => {}): ChangeEvents {
  const local = new EventEmitter();
  const wanted = new Set<ChangeTopic>();
  const namespace = `${channelPrefix}events:`;
  const channel = (topic: ChangeTopic) => `${namespace}${topic}`;
  let closed = false;

  // The message names its sender, which has already notified its own listeners at once.
  const origin = randomUUID();
  const onMessage = (name: string, sender: string) => {
    if (name.startsWith(namespace) && sender !== origin) notify(local, name.slice(namespace.length), onError);
  };

  // Every wanted channel is subscribed on every 'ready' (src/redis/subscriber.ts: no offline
  // queue, no auto-resubscribe), and the listeners are told to resync only once Redis confirmed it.
  const resynchronise = async (connection: Redis) => {
    if (wanted.size === 0 || closed) return;
    try {
      await connection.subscribe(...[...wanted].map(channel));
    } catch {
      return; // the connection dropped again: the next 'ready' retries
    }
    for (const topic of wanted) notify(local, topic, onError);
  };
  const subscriber = createSubscriber(
    publisher,
    (connection) => {
      connection.on('message', onMessage);
      connection.on('ready', () => void resynchronise(connection));
    },
    // CLIENT LIST names it: letters, digits, ':' '_' '-' only (REDIS_KEY_PREFIX's alphabet).
    `${namespace}subscriber`,
  );

  return {
    async publish(topic) {
      // This instance learns at once, not a network round trip later: the admin request that
      // made the change and the next request on the same instance see the same credentials.
      notify(local, topic, onError);
      try {
        await publisher.publish(channel(topic), origin);
      } catch (err) {
        onError(err instanceof Error ? err : new Error(String(err)));
      }
    },
    subscribe(topic, listener) {
      local.on(topic, listener);
      if (wanted.has(topic)) return;
      wanted.add(topic);
      // When not ready now, the coming 'ready' subscribes it.
      const connection = subscriber.current();
      if (connection?.status === 'ready') void connection.subscribe(channel(topic)).catch(() => {});
    },
    async close() {
      closed = true;
      local.removeAllListeners();
      subscriber.close();
    },
  };
}
