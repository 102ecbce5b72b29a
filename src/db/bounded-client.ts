// A node-postgres client that bounds every statement itself, so that the bound holds through
// PgBouncer in transaction mode. PgBouncer refuses startup parameters it does not track
// (statement_timeout, lock_timeout, options: PgBouncer manual, "ignore_startup_parameters"), and a
// session-level SET would stay on a server connection other clients then share. So no parameter
// is sent at all: when a statement has run for `statementTimeoutMs`, the client sends a cancel
// request (PostgreSQL protocol §55.2.8 "Canceling Requests in Progress"), which PgBouncer forwards
// to the server connection running it. PostgreSQL then stops the statement, a lock wait included,
// with SQLSTATE 57014 (query_canceled), as its own statement_timeout would. pg's `query_timeout`
// does not do this: it only stops waiting, and the statement runs on in the server.
// A server that does not answer even the cancel (a frozen host) gets `cancelGraceMs` more, then
// the connection is destroyed and the statement fails with a "Query read timeout" error.
import { connect } from 'node:net';
import pg from 'pg';

export interface StatementBound {
  statementTimeoutMs: number;
  cancelGraceMs: number;
}

/** The connection details node-postgres keeps on a client (pg/lib/client.js); not in @types/pg. */
interface ClientInternals {
  host: string;
  port: number;
  processID: number | null;
  secretKey: number | null;
  connection: { stream: { destroy(): void } };
}

type Callback = (err: Error | null, result?: unknown) => void;

// CancelRequest: length 16, code 80877102, then the backend's process id and secret key.
const CANCEL_REQUEST_CODE = 80877102;

function sendCancel(client: ClientInternals, graceMs: number): void {
  if (client.processID === null || client.secretKey === null) return;
  const packet = Buffer.alloc(16);
  packet.writeInt32BE(16, 0);
  packet.writeInt32BE(CANCEL_REQUEST_CODE, 4);
  packet.writeInt32BE(client.processID, 8);
  packet.writeInt32BE(client.secretKey, 12);
  const socket = client.host.startsWith('/')
    ? connect({ path: `${client.host}/.s.PGSQL.${client.port}` })
    : connect({ host: client.host, port: client.port });
  // Best effort: the hard deadline below covers a cancel that cannot be delivered. Like libpq's
  // PQcancel, the socket stays open until the server closes it, which says the request was
  // processed: PgBouncer 1.18 aborts (objects.c "bad client state") when a cancel's client
  // disconnects before the server has taken the request.
  socket.on('error', () => socket.destroy());
  socket.setTimeout(graceMs, () => socket.destroy());
  socket.on('end', () => socket.destroy());
  socket.on('connect', () => socket.write(packet));
}

/** A pg.Client class whose statements are cancelled after `bound.statementTimeoutMs`. */
export function boundedClientClass(bound: StatementBound): typeof pg.Client {
  return class BoundedClient extends pg.Client {
    // One signature for pg's overloads (text | config, values | callback, callback).
    override query(...args: unknown[]): never {
      const [config, values, callback] = args;
      const query = pg.Client.prototype.query as (...a: unknown[]) => never;
      const isQueryConfig = typeof config === 'object' && config !== null && typeof (config as { submit?: unknown }).submit !== 'function';
      // Submittables (cursors, streams) manage their own life; the service uses none.
      if (typeof config !== 'string' && !isQueryConfig) return query.apply(this, args);
      const q = new pg.Query(config as pg.QueryConfig, values as unknown[], callback as never) as pg.Query & {
        callback?: Callback;
        submit(connection: unknown): unknown;
      };
      let result: Promise<unknown> | undefined;
      let done: Callback;
      if (q.callback) {
        done = q.callback;
      } else {
        result = new Promise((resolve, reject) => {
          done = (err, res) => (err ? reject(err) : resolve(res));
        });
      }
      const internals = this as unknown as ClientInternals;
      const timers: NodeJS.Timeout[] = [];
      let timedOut = false;
      q.callback = (err, res) => {
        for (const timer of timers) clearTimeout(timer);
        done(timedOut ? new Error(`Query read timeout: no answer ${bound.cancelGraceMs} ms after a cancel request`) : err, res);
      };
      // The bound runs from the moment the statement is on the wire, not while it queues.
      const submit = q.submit.bind(q);
      q.submit = (connection) => {
        timers.push(
          setTimeout(() => sendCancel(internals, bound.cancelGraceMs), bound.statementTimeoutMs),
          setTimeout(() => {
            timedOut = true;
            internals.connection.stream.destroy();
          }, bound.statementTimeoutMs + bound.cancelGraceMs),
        );
        return submit(connection);
      };
      query.call(this, q);
      return result as never;
    }
  };
}
