// Every HTTP request's one log line, its request id, and its latency in the histogram, per
// listener, route, method and status. Fastify calls its log controller when each request
// arrives and when its response has finished (or failed), for errors and 404s too, once a logger
// is configured (docs/Reference/Server.md, "logController"): the line is written there, and the
// latency is recorded in the same call. An onResponse hook would add a hook runner per request on
// top of it (seen in CPU profiles of the introspection hot path; the gain is below what
// bench/introspect can resolve on the development machine).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { Listener } from './app.js';
import { toAppError, toOAuthError } from './errors.js';
import type { HistogramSeries, RequestHistogram } from './request-histogram.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The client the request authenticated as, set by the route once it knows: the request line names it. */
    clientId: string | null;
  }
}

/** The label for requests no route matched (404s of the not-found handler). */
const UNMATCHED_ROUTE = 'unmatched';

/** Characters of an unmatched request's path that its line keeps. */
const MAX_PATH_LENGTH = 200;

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * An incoming X-Request-Id is kept when it is a plain token (a UUID, a proxy's or a client's
 * trace id): it reaches the log line and the response header, so nothing that could break a log
 * line or a header, or hold a secret's length, is taken over.
 */
const WELL_FORMED_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const stamped = Symbol('requestId');
type StampedMessage = IncomingMessage & { [stamped]?: string };

/** The request's id (Fastify's genReqId): the caller's X-Request-Id when well-formed, else a fresh UUID. */
export function requestId(req: IncomingMessage): string {
  const own = (req as StampedMessage)[stamped];
  if (own !== undefined) return own;
  const given = req.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && WELL_FORMED_ID.test(given) ? given : randomUUID();
}

/**
 * Prepended to the HTTP server's 'request' listeners: the id is in the response header before
 * Fastify answers anything, including the 503 it sends by itself to a request arriving while the
 * listener closes (no hook or log-controller call gets that response).
 */
export function stampRequestId(req: IncomingMessage, res: ServerResponse): void {
  const id = requestId(req);
  (req as StampedMessage)[stamped] = id;
  res.setHeader(REQUEST_ID_HEADER, id);
}

// The error a request was answered with, recorded by the app's onError hook and by
// frameworkErrors (app.ts): only error answers have one.
const answeredWith = new WeakMap<FastifyRequest, unknown>();

export function recordAnswerError(request: FastifyRequest, error: unknown): void {
  answeredWith.set(request, error);
}

type Labels = 'listener' | 'route' | 'method' | 'status';

interface RequestLine {
  reqId: string;
  method: string;
  route: string;
  /** Only for requests no route matched: without the query string, at most MAX_PATH_LENGTH characters. */
  path?: string;
  status: number;
  durationMs: number;
  ip: string;
  clientId?: string;
  /** The error code of the body (OAuth's `error`, the admin API's `error`) and what it says. */
  error?: string;
  hint?: string;
  err?: string;
}

export class RequestObserver extends LogController {
  readonly #histogram: RequestHistogram<Labels>;
  readonly #listener: Listener;
  readonly #log: Logger;
  // The series by route, method and status, so no label object is built per request. The map
  // is bounded by the routes × methods × statuses that occur.
  readonly #series = new Map<string, HistogramSeries>();

  constructor(histogram: RequestHistogram<Labels>, listener: Listener, log: Logger) {
    super();
    this.#histogram = histogram;
    this.#listener = listener;
    this.#log = log;
  }

  /** No "incoming request" line: the one line is written at completion. The id goes into the answer. */
  override incomingRequest(request: FastifyRequest, reply: FastifyReply): void {
    // Requests that came through the HTTP server have it already (stampRequestId); injected ones not.
    if (!reply.raw.hasHeader(REQUEST_ID_HEADER)) reply.raw.setHeader(REQUEST_ID_HEADER, request.id);
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    // The route pattern (`/admin/resellers/:resellerId/api`), never the raw URL: one series per
    // route, however many ids or probing paths callers send. Methods need no such care: Node's
    // HTTP parser only accepts its fixed list of methods. (routeOptions is built on each read.)
    const options = request.routeOptions;
    const route = request.is404 ? UNMATCHED_ROUTE : (options.url ?? UNMATCHED_ROUTE);
    const status = reply.statusCode;
    const key = `${route} ${request.method} ${status}`;
    let series = this.#series.get(key);
    if (!series) {
      series = this.#histogram.series({ listener: this.#listener, route, method: request.method, status: String(status) });
      this.#series.set(key, series);
    }
    series.observe(reply.elapsedTime / 1000);

    // Routes that declare a quieter level (probes, metrics, introspection and the ingress check,
    // the busiest lines of any log) have their successful requests at debug; their errors are
    // written like every other request's.
    const quiet = status < 400 && (this.#log.levels.values[options.logLevel] ?? 0) > (this.#log.levels.values.info ?? 30);
    const level = error ? 'warn' : quiet ? 'debug' : 'info';
    if (!this.#log.isLevelEnabled(level)) return;
    const line: RequestLine = {
      reqId: request.id,
      method: request.method,
      route,
      status,
      durationMs: Math.round(reply.elapsedTime * 10) / 10,
      ip: request.ip,
    };
    // Bounded: a probe's path is the caller's to choose (up to Node's 16 KB of headers).
    if (route === UNMATCHED_ROUTE) line.path = (request.url.split('?')[0] ?? '').slice(0, MAX_PATH_LENGTH);
    if (request.clientId) line.clientId = request.clientId;
    if (status >= 400 && answeredWith.has(request)) Object.assign(line, describeError(request, answeredWith.get(request)));
    if (error) line.err = error.message;
    this.#log[level](line, 'request');
  }
}

/** What the answer's body said, as the surface's error handler built it (app.ts, routes/oauth/index.ts). */
function describeError(request: FastifyRequest, error: unknown): Pick<RequestLine, 'error' | 'hint'> {
  if (request.url.startsWith('/oauth/')) {
    const problem = toOAuthError(error);
    return { error: problem.error, hint: problem.hint ?? problem.description };
  }
  const problem = toAppError(error);
  return { error: problem.error, hint: problem.message };
}
