// Console authentication: log-in (scrypt off the event loop, the same work for
// unknown users, rate limits per user and per address), sessions in the
// database (HttpOnly, SameSite=Strict, Secure over TLS, expiry, revocation),
// roles declared per route and checked in one hook, and CSRF on every
// state-changing request (the session's token in X-CSRF-Token or `_csrf`;
// the log-in form by a double-submit cookie).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Type } from '@sinclair/typebox';
import { DEFAULT_COST, hashPassword, setHashConcurrency, sha256Hex, verifyPassword } from '../passwords.js';
import { ROLES, type Role } from '../storage/storage.js';
import { loginPage } from '../console-page.js';
import type { SessionInfo } from '../context.js';
import { endSessions } from '../session-end.js';

export const SESSION_COOKIE = 'hp_session';
export const LOGIN_COOKIE = 'hp_login';
export const ALL_ROLES: Role[] = ROLES;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The CSRF token a request carries: header, else the form field. */
function csrfOf(req: FastifyRequest): string {
  const h = req.headers['x-csrf-token'];
  if (typeof h === 'string') return h;
  const b = req.body as { _csrf?: unknown } | undefined;
  return b && typeof b === 'object' && typeof b._csrf === 'string' ? b._csrf : '';
}

const wantsJson = (req: FastifyRequest) => /json/.test(String(req.headers.accept ?? '')) || /json/.test(String(req.headers['content-type'] ?? ''));

/** A fresh token for the log-in form, in a cookie and in the form (double submit). */
export function issueLoginCsrf(app: FastifyInstance, reply: FastifyReply): string {
  const token = randomBytes(18).toString('base64url');
  void reply.setCookie(LOGIN_COOKIE, token, { httpOnly: true, sameSite: 'strict', secure: !!app.hub.config.tls, path: '/', maxAge: 3600 });
  return token;
}

export default fp(async function auth(app: FastifyInstance) {
  const { hub } = app;
  const cfg = { sessionTtlS: 12 * 3600, loginPerUserPerMin: 10, loginPerAddressPerMin: 30, ...hub.config.console };
  // Unknown users cost one hash of the same kind as real ones: no timing tells which names exist.
  setHashConcurrency(cfg.hashThreads);
  const dummyHash = await hashPassword(randomBytes(8).toString('hex'), DEFAULT_COST);

  app.addHook('onRequest', async (req) => {
    const id = req.cookies[SESSION_COOKIE];
    if (!id || !/^[A-Za-z0-9_-]{20,64}$/.test(id)) return;
    const idSha256 = sha256Hex(id);
    const s = await hub.storage.getSession(idSha256);
    if (s) req.session = { idSha256, user: s.user, role: s.role, csrf: s.csrf, rights: s.rights };
  });

  // Roles, for every route in one place, before the body is even read. A route with neither `roles` nor `public` is refused.
  app.addHook('onRequest', async (req, reply) => {
    if (req.is404) return;
    const rc = req.routeOptions.config;
    if (rc.public || rc.loginCsrf) return;
    if (!rc.roles) return reply.status(403).send({ error: 'route declares no roles', statusCode: 403 });
    if (!req.session) {
      // A browser opening a console page before logging in goes to the log-in page; API callers get 401.
      if (req.method === 'GET' && !req.url.startsWith('/api/') && /text\/html/.test(req.headers.accept ?? '')) return reply.redirect('/', 303);
      return reply.status(401).send({ error: 'log in first', statusCode: 401 });
    }
    if (!rc.roles.includes(req.session.role)) return reply.status(403).send({ error: `${rc.roles.join(' or ')} role needed`, statusCode: 403 });
    const missing = (rc.rights ?? []).filter((r) => !req.session!.rights.includes(r));
    if (missing.length) return reply.status(403).send({ error: `the ${missing.join(' and ')} right is needed`, statusCode: 403 });
  });

  // CSRF on every state-changing request, once the body (a form may carry `_csrf`) is parsed and before it is validated.
  app.addHook('preValidation', async (req, reply) => {
    if (req.is404 || SAFE_METHODS.has(req.method)) return;
    const rc = req.routeOptions.config;
    if (rc.loginCsrf) {
      const cookie = req.cookies[LOGIN_COOKIE] ?? '';
      if (!cookie || !same(cookie, csrfOf(req))) return reply.status(403).send({ error: 'CSRF token missing or wrong: load the log-in page again', statusCode: 403 });
      return;
    }
    if (rc.public) return;
    if (!req.session || !same(req.session.csrf, csrfOf(req))) return reply.status(403).send({ error: 'CSRF token missing or wrong', statusCode: 403 });
  });

  // Two limits on one route: per client address and per user name (the plugin's manual API, since one route takes one hook limit).
  const perAddress = app.createRateLimit({ max: cfg.loginPerAddressPerMin, timeWindow: 60_000, keyGenerator: (req) => `addr:${req.ip}` });
  const perUser = app.createRateLimit({
    max: cfg.loginPerUserPerMin,
    timeWindow: 60_000,
    keyGenerator: (req) => `user:${String((req.body as { user?: unknown })?.user ?? '').slice(0, 128)}`,
  });
  // Both counted on every attempt, asked for together: the store writes them in one statement.
  const limited = async (req: FastifyRequest, reply: FastifyReply) => {
    for (const r of await Promise.all([perAddress(req), perUser(req)])) {
      if (!r.isAllowed && r.isExceeded) {
        req.log.warn({ remote: req.ip, key: r.key.slice(0, 80) }, 'log-in rate limit');
        return reply.status(429).header('retry-after', String(Math.ceil(r.ttlInSeconds))).send({ error: 'too many log-in attempts; wait a minute', statusCode: 429 });
      }
    }
  };

  const LoginBody = Type.Object({ user: Type.String({ minLength: 1, maxLength: 128 }), password: Type.String({ maxLength: 1024 }), _csrf: Type.Optional(Type.String({ maxLength: 100 })) });
  app.post<{ Body: { user: string; password: string } }>(
    '/login',
    {
      config: { loginCsrf: true },
      bodyLimit: 8192,
      preHandler: limited,
      schema: { tags: ['auth'], summary: 'log in (form or JSON); sets the session cookie', body: LoginBody },
    },
    async (req, reply) => {
      const { user: name, password } = req.body;
      const user = await hub.storage.getUser(name);
      const ok = await verifyPassword(password, user?.passwordHash ?? dummyHash);
      if (!user || !ok) {
        req.log.warn({ user: name.slice(0, 64), remote: req.ip }, 'console log-in failed');
        await hub.audit({ ip: req.ip }, 'login', name.slice(0, 128), 'refused');
        if (wantsJson(req)) return reply.status(401).send({ error: 'wrong user or password', statusCode: 401 });
        return reply.status(401).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(loginPage(hub.config.site.name.en, issueLoginCsrf(app, reply), 'Wrong user or password.'));
      }
      const id = randomBytes(24).toString('base64url');
      const session: SessionInfo = { idSha256: sha256Hex(id), user: user.name, role: user.role, csrf: randomBytes(24).toString('base64url'), rights: user.rights };
      req.session = session;
      // The session and its audit record in one statement (with the embedded PGlite every statement runs on the event loop).
      await hub.storage.createSession({ ...session, address: req.ip, ttlS: cfg.sessionTtlS }, { user: user.name, role: user.role, action: 'login', target: user.name, result: 'ok', address: req.ip });
      req.log.info({ user: user.name, role: user.role }, 'console log-in');
      void reply.setCookie(SESSION_COOKIE, id, { httpOnly: true, sameSite: 'strict', secure: !!hub.config.tls, path: '/', maxAge: cfg.sessionTtlS });
      void reply.clearCookie(LOGIN_COOKIE, { path: '/' });
      if (wantsJson(req)) return reply.send({ user: user.name, role: user.role, csrf: session.csrf, rights: user.rights });
      return reply.redirect('/', 303);
    },
  );

  app.post(
    '/logout',
    { config: { roles: ALL_ROLES }, bodyLimit: 4096, schema: { tags: ['auth'], summary: 'end this session (revoked on the server)' } },
    async (req, reply) => {
      await hub.storage.revokeSession(req.session!.idSha256);
      await hub.audit(req, 'logout', req.session!.user, 'ok');
      // Areas let go of what the session held (its desk, its live streams); the other instances are told.
      await endSessions(hub, [req.session!], 'logged out');
      void reply.clearCookie(SESSION_COOKIE, { path: '/' });
      if (wantsJson(req)) return reply.send({ ok: true });
      return reply.redirect('/', 303);
    },
  );

  app.get(
    '/api/session',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'who is logged in and the CSRF token for state-changing requests; without a session, a log-in CSRF token',
        response: {
          200: Type.Union([
            Type.Object({ user: Type.String(), role: Type.String(), csrf: Type.String(), rights: Type.Array(Type.String()) }),
            Type.Object({ loginCsrf: Type.String() }),
          ]),
        },
      },
    },
    async (req, reply) => {
      if (req.session) return { user: req.session.user, role: req.session.role, csrf: req.session.csrf, rights: req.session.rights };
      return { loginCsrf: issueLoginCsrf(app, reply) };
    },
  );

  app.post<{ Params: { name: string } }>(
    '/api/users/:name/sessions/revoke',
    {
      config: { roles: ['admin'] },
      bodyLimit: 4096,
      schema: { tags: ['auth'], summary: 'end every session of a user at once (its desk and desk SIP password let go before the answer)', params: Type.Object({ name: Type.String({ maxLength: 128 }) }), response: { 200: Type.Object({ revoked: Type.Integer() }) } },
    },
    async (req) => {
      const ended = await hub.storage.revokeUserSessions(req.params.name);
      // As at log-out, at once: a revoked dispatcher's desk and its SIP password are let go before the answer.
      await endSessions(hub, ended, 'session revoked');
      await hub.audit(req, 'sessions.revoke', req.params.name, 'ok', { revoked: ended.length });
      return { revoked: ended.length };
    },
  );
});
