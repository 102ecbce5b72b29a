// Graceful drain on SIGTERM (docs/deployment.md "Stopping"). A pod being deleted keeps receiving
// connections until every kube-proxy, ingress controller and external load balancer has seen its
// endpoint go: the Kubernetes docs ("Pod termination") say the endpoint removal and the SIGTERM
// happen concurrently. So for SHUTDOWN_DELAY seconds the instance answers readiness 503 (load
// balancers that probe stop sending) and keeps serving every request, and asks each client to
// close its keep-alive connection after the response it is waiting for (so clients reconnect to
// another instance instead of holding a connection that is about to close). Only then do the
// listeners stop accepting.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';

// Keyed by the services object both listeners share: an instance drains as a whole, and tests
// that build several instances in one process do not see each other's state.
const draining = new WeakSet<object>();

/** True once the instance owning these services has begun to drain: readiness answers 503. */
export function isDraining(services: object): boolean {
  return draining.has(services);
}

/**
 * Marks the instance as draining, makes every response from now on end its connection
 * (`Connection: close`, RFC 9112 §9.6), waits `delayMs`, then closes the listeners: they stop
 * accepting, idle keep-alive connections close at once (forceCloseConnections: 'idle') and the
 * others once their in-flight request is answered.
 */
export async function drain(services: object, apps: FastifyInstance[], delayMs: number): Promise<void> {
  draining.add(services);
  for (const app of apps) closeConnectionsAfterResponse(app.server);
  if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
  await Promise.all(apps.map((app) => app.close()));
}

function closeConnectionsAfterResponse(server: Server): void {
  // Prepended: it runs before Fastify's handler can write the response head. Node writes
  // "Connection: close" when shouldKeepAlive is false and ends the socket after the response.
  server.prependListener('request', (_request: IncomingMessage, response: ServerResponse) => {
    response.shouldKeepAlive = false;
  });
}
