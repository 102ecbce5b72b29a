// cluster-key-slot (ioredis's own dependency) ships no types: the Redis Cluster hash slot of a key
// (CRC16 of the key or of its {hash tag}, modulo 16384; Redis Cluster specification "Keys
// distribution model").
declare module 'cluster-key-slot' {
  export default function calculateSlot(key: string | Buffer): number;
}
