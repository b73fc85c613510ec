// A logged-in console for tests and benchmarks: the log-in CSRF dance
// (GET /api/session, then POST /login with its token), then requests that
// carry the session cookie and, when they change state, the CSRF token.
export interface ConsoleSession {
  base: string;
  cookie: string;
  csrf: string;
  get(path: string): Promise<Response>;
  json<T = unknown>(path: string): Promise<T>;
  post(path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
}

const cookieOf = (r: Response, name: string) => {
  const all = r.headers.getSetCookie?.() ?? [r.headers.get('set-cookie') ?? ''];
  const c = all.find((s) => s.startsWith(`${name}=`));
  return c ? c.split(';')[0]! : undefined;
};

/** Logs in; throws with the status if refused. */
export async function consoleLogin(base: string, user: string, password: string): Promise<ConsoleSession> {
  const pre = await fetch(base + '/api/session');
  const { loginCsrf } = (await pre.json()) as { loginCsrf: string };
  const loginCookie = cookieOf(pre, 'hp_login')!;
  const r = await fetch(base + '/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': loginCsrf, cookie: loginCookie },
    body: JSON.stringify({ user, password }),
  });
  if (r.status !== 200) throw new Error(`log-in as ${user}: ${r.status} ${await r.text()}`);
  const { csrf } = (await r.json()) as { csrf: string };
  const cookie = cookieOf(r, 'hp_session')!;
  const s: ConsoleSession = {
    base,
    cookie,
    csrf,
    get: (path) => fetch(base + path, { headers: { cookie } }),
    json: async <T>(path: string) => {
      const res = await fetch(base + path, { headers: { cookie } });
      if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
    post: (path, body, headers = {}) =>
      fetch(base + path, {
        method: 'POST',
        headers: { cookie, 'x-csrf-token': csrf, ...(body instanceof Uint8Array || typeof body === 'string' ? {} : { 'content-type': 'application/json' }), ...headers },
        body: (body === undefined ? undefined : body instanceof Uint8Array || typeof body === 'string' ? body : JSON.stringify(body)) as never,
      }),
  };
  return s;
}
