// The requests and expectations the outage tests share: the three /oauth/* calls a reseller
// or a resource server makes, the 503 bodies of docs/resellers.md, and a bounded request storm.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Test } from 'tap';
import { generateToken } from '../../src/security/secret-box.js';
import { NO_STORE, type SeededReseller, type TestApp, basic, passwordGrantBody, unavailableBody } from '../helper.js';

export { basic, unavailableBody };

export interface ResourceServer {
  clientId: string;
  secret: string;
}

/** What POST /admin/resource-servers does: create, then tell every instance. */
export async function registerResourceServer(ctx: TestApp): Promise<ResourceServer> {
  const secret = `rs-${generateToken()}`;
  const rs = await ctx.services.resourceServers.create('DBS API', ctx.services.secretBox.seal(secret));
  await ctx.services.events.publish('resource-servers');
  return { clientId: String(rs.clientId), secret };
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
}

export function oauthCalls(app: FastifyInstance, reseller: SeededReseller, rs: ResourceServer) {
  return {
    password: () => app.inject({ method: 'POST', url: '/oauth/token', payload: passwordGrantBody(reseller) }),
    refresh: (pair: TokenPair) =>
      app.inject({
        method: 'POST',
        url: '/oauth/token',
        payload: {
          grant_type: 'refresh_token',
          refresh_token: pair.refresh_token,
          client_id: reseller.clientId,
          client_secret: reseller.clientSecret,
        },
      }),
    revoke: (token: string) =>
      app.inject({ method: 'POST', url: '/oauth/revoke', payload: { token, client_id: reseller.clientId, client_secret: reseller.clientSecret } }),
    introspect: (token: string) =>
      app.inject({ method: 'POST', url: '/oauth/introspect', payload: { token }, headers: { authorization: basic(rs.clientId, rs.secret) } }),
  };
}

export function assertUnavailable(t: Test, res: LightMyRequestResponse, what: 'database' | 'token store', label: string) {
  t.equal(res.statusCode, 503, `${label}: 503`);
  t.same(res.json(), unavailableBody(what), `${label}: whole body`);
  t.match(res.headers, { ...NO_STORE, 'retry-after': '5' }, `${label}: Retry-After and no-store`);
}

/** Times a request: no answer may take longer than the dependency timeouts allow. */
export async function timed<T>(call: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await call();
  return { result, ms: performance.now() - started };
}

export interface StormResult {
  statuses: Map<number, number>;
  issued: TokenPair[];
  requests: number;
}

/**
 * `workers` concurrent password grants in a loop until `stop()` resolves (or `maxRequests` were
 * sent): every token pair a client was given is collected, to be looked up once the store is back.
 */
export async function storm(request: () => Promise<LightMyRequestResponse>, workers: number, maxRequests: number, stop: Promise<void>) {
  const result: StormResult = { statuses: new Map(), issued: [], requests: 0 };
  let stopped = false;
  void stop.then(() => {
    stopped = true;
  });
  const worker = async () => {
    while (!stopped && result.requests < maxRequests) {
      result.requests += 1;
      const res = await request();
      result.statuses.set(res.statusCode, (result.statuses.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode === 200) result.issued.push(res.json() as TokenPair);
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  return result;
}
