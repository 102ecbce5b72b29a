// Change notifications between instances (issue 4: a removed resource server or a rotated
// secret must be seen by every instance promptly). Redis pub/sub when REDIS_URL is set (a
// subscriber connection of its own, as Redis requires); in-process otherwise, where there is
// only one instance.
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';

export type ChangeTopic = 'resource-servers' | 'clients';

export interface ChangeEvents {
  /** Tells every instance (this one included) that something of `topic` changed. */
  publish(topic: ChangeTopic): Promise<void>;
  subscribe(topic: ChangeTopic, listener: () => void): void;
  close(): Promise<void>;
}

export function createLocalEvents(): ChangeEvents {
  const emitter = new EventEmitter();
  return {
    async publish(topic) {
      emitter.emit(topic);
    },
    subscribe(topic, listener) {
      emitter.on(topic, listener);
    },
    async close() {
      emitter.removeAllListeners();
    },
  };
}

export function createRedisEvents(publisher: Redis, channelPrefix: string): ChangeEvents {
  // duplicate(): same URL and options; a subscribed connection can run no other command.
  const subscriber = publisher.duplicate({ enableOfflineQueue: true });
  subscriber.on('error', () => {});
  const local = new EventEmitter();
  const channel = (topic: ChangeTopic) => `${channelPrefix}events:${topic}`;
  subscriber.on('message', (name: string) => {
    if (name.startsWith(`${channelPrefix}events:`)) local.emit(name.slice(`${channelPrefix}events:`.length));
  });
  // After a reconnect, messages sent while disconnected are lost: tell listeners to reload.
  subscriber.on('ready', () => {
    for (const topic of local.eventNames()) local.emit(topic);
  });
  return {
    async publish(topic) {
      await publisher.publish(channel(topic), '1');
    },
    subscribe(topic, listener) {
      if (local.listenerCount(topic) === 0) void subscriber.subscribe(channel(topic)).catch(() => {});
      local.on(topic, listener);
    },
    async close() {
      local.removeAllListeners();
      subscriber.disconnect();
    },
  };
}
