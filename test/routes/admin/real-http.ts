// Requests over real TCP connections, with the client socket bound to a chosen local address
// (Linux routes all of 127.0.0.0/8 to the loopback interface), so that the server sees the
// caller's address exactly as it would in production: no inject(), no remoteAddress override.
import http from 'node:http';

export interface RealResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, typed as the test expects it to be (the assertions check it). */
  json<T = Record<string, unknown>>(): T;
}

export interface RealRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Sent as it is (with the content-type the headers give) instead of `body` as JSON. */
  rawBody?: string;
  /** The client socket's local address: 127.0.0.2 to be "another" caller. */
  localAddress?: string;
}

export function request(url: string, options: RealRequest = {}): Promise<RealResponse> {
  const json = options.body === undefined ? undefined : JSON.stringify(options.body);
  const body = options.rawBody ?? json;
  const headers: Record<string, string> = { ...(json === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers };
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: options.method ?? 'GET', headers, localAddress: options.localAddress, agent: false, timeout: 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: <T>() => JSON.parse(text) as T });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request to ${url} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** A client of the admin port: Bearer auth with the given admin token. */
export function adminClient(baseUrl: string, token: string) {
  const call = (method: string, path: string, body?: unknown) =>
    request(`${baseUrl}${path}`, { method, body, headers: { authorization: `Bearer ${token}` } });
  return {
    get: (path: string) => call('GET', path),
    put: (path: string, body: unknown) => call('PUT', path, body),
    post: (path: string, body?: unknown) => call('POST', path, body),
    delete: (path: string) => call('DELETE', path),
  };
}

export type AdminClient = ReturnType<typeof adminClient>;

export interface Credentials {
  clientId: string;
  clientSecret: string;
  email: string;
  password: string;
}

/** The resellers' exact token request of docs/resellers.md, over a real connection. */
export function requestToken(publicUrl: string, c: Credentials, options: Omit<RealRequest, 'body' | 'method'> = {}) {
  return request(`${publicUrl}/oauth/token`, {
    ...options,
    method: 'POST',
    body: { grant_type: 'password', client_id: c.clientId, client_secret: c.clientSecret, username: c.email, password: c.password, scope: '' },
  });
}

export const unauthorizedClient = (address: string) => ({
  error: 'unauthorized_client',
  error_description: `The client is not allowed to request tokens from ${address}.`,
  message: `The client is not allowed to request tokens from ${address}.`,
});

export const invalidClient = { error: 'invalid_client', error_description: 'Client authentication failed', message: 'Client authentication failed' };

export const invalidGrant = {
  error: 'invalid_grant',
  error_description: 'The user credentials were incorrect.',
  message: 'The user credentials were incorrect.',
};
