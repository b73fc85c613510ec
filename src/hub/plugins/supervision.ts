// Supervision's routes (issue 15, hub side; docs/supervision.md): each
// kiosk's last test call and its history (the kiosk's verdict joined with
// the test answerer's record), a test now, faults as the hub sees them,
// availability per kiosk and zone per day (JSON and CSV), the report page,
// and the Prometheus metrics at /metrics.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { csvLine } from '../csv.js';
import { sha256Hex } from '../passwords.js';
import { SupervisionService } from '../supervision/service.js';
import { HubMetrics } from '../supervision/metrics.js';
import { ALL_ROLES } from './auth.js';

const KioskParams = Type.Object({ kiosk: Type.String({ minLength: 1, maxLength: 64 }) });
const TestParams = Type.Object({ testId: Type.String({ minLength: 1, maxLength: 128 }) });
const Step = Type.Object({ step: Type.String(), ok: Type.Boolean(), ms: Type.Number(), detail: Type.String() });
const Answer = Type.Object(
  {
    testId: Type.String(),
    kiosk: Type.String(),
    callId: Type.String(),
    instanceId: Type.String(),
    fromUri: Type.Union([Type.String(), Type.Null()]),
    answeredAt: Type.Union([Type.String(), Type.Null()]),
    toneHeard: Type.Boolean({ description: 'the kiosk\'s 1000 Hz tone heard for >= 300 ms' }),
    toneMs: Type.Union([Type.Integer(), Type.Null()], { description: 'from the answer to the detection' }),
    infoSent: Type.Union([Type.String(), Type.Null()], { description: 'the INFO body sent: audio-out=ok or audio-out=fail' }),
    dtmfReceived: Type.Boolean({ description: 'digit 1 received from the kiosk' }),
    dtmfSent: Type.Boolean({ description: 'digit 2 sent back' }),
    endedAt: Type.String(),
    endReason: Type.Union([Type.String(), Type.Null()]),
    rtp: Type.Unknown(),
  },
  { description: 'what the hub\'s test answerer observed on the call' },
);
const Test = Type.Object({
  testId: Type.String(),
  kiosk: Type.String(),
  trigger: Type.String(),
  startedAt: Type.String(),
  at: Type.String(),
  passed: Type.Boolean(),
  failedStep: Type.Union([Type.String(), Type.Null()]),
  steps: Type.Array(Step),
  intervalS: Type.Union([Type.Integer(), Type.Null()]),
  next: Type.Union([Type.String(), Type.Null()]),
  answerer: Type.Union([Answer, Type.Null()]),
});
const Fault = Type.Object({
  kiosk: Type.String(),
  zone: Type.String(),
  code: Type.String(),
  detail: Type.String(),
  source: Type.Union([Type.Literal('kiosk'), Type.Literal('hub')]),
  since: Type.Optional(Type.Number()),
});
const KioskSummary = Type.Object({
  kiosk: Type.String(),
  zone: Type.String(),
  lastTest: Type.Union([Test, Type.Null()]),
  overdue: Type.Union([Type.Object({ alarmId: Type.String(), raisedAt: Type.String() }), Type.Null()]),
  faults: Type.Array(Fault),
});
const Outcome = Type.Object({ ok: Type.Boolean(), pending: Type.Optional(Type.Boolean()), error: Type.Optional(Type.String()), id: Type.Optional(Type.String()), test: Type.Optional(Test) });
const Figure = Type.Object({ day: Type.String(), kiosk: Type.Optional(Type.String()), zone: Type.String(), availableS: Type.Integer(), measuredS: Type.Integer(), share: Type.Union([Type.Number(), Type.Null()]) });
const AvailabilityQuery = Type.Object({
  from: Type.Optional(Type.String({ format: 'date', description: 'first UTC day (default: 6 days before today)' })),
  to: Type.Optional(Type.String({ format: 'date', description: 'last UTC day, included (default: today)' })),
  zone: Type.Optional(Type.String({ maxLength: 64 })),
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')], { default: 'json' })),
});
const HistoryQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })), before: Type.Optional(Type.String({ format: 'date-time' })) });

/** Who runs a test now: the contract's dispatcher or facilities role (and admin). */
const TEST_ROLES = ['dispatcher', 'facilities', 'admin'] as const;
/** Who reads /metrics with a console session (besides the metrics token). */
const METRICS_ROLES = ['admin', 'facilities'];
const MAX_DAYS = 92;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export default async function supervision(app: FastifyInstance) {
  const { hub } = app;
  const svc = new SupervisionService(hub);
  await svc.start();
  const metrics = new HubMetrics(hub, svc);
  app.addHook('onClose', async () => svc.stop());
  hub.supervision = svc;

  app.get<{ Querystring: { zone?: string } }>(
    '/api/supervision/kiosks',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags: ['supervision'],
        summary: 'every kiosk\'s last test call (its verdict per step with the answerer\'s record), its open overdue alarm and its open faults',
        querystring: Type.Object({ zone: Type.Optional(Type.String({ maxLength: 64 })) }),
        response: { 200: Type.Array(KioskSummary) },
      },
    },
    async (req) => {
      const kiosks = (await hub.storage.listKiosks({ zone: req.query.zone })).filter((k) => !k.revoked);
      const last = await hub.storage.supervision.lastTests(kiosks.map((k) => k.id));
      const joined = new Map((await svc.join([...last.values()])).map((t) => [t.kiosk, t]));
      const overdue = await hub.storage.supervision.openOverdue();
      const faults = await svc.faults({ zone: req.query.zone });
      return kiosks.map((k) => ({ kiosk: k.id, zone: k.zone, lastTest: joined.get(k.id) ?? null, overdue: overdue.get(k.id) ?? null, faults: faults.filter((f) => f.kiosk === k.id) }));
    },
  );

  app.get<{ Params: Static<typeof KioskParams>; Querystring: Static<typeof HistoryQuery> }>(
    '/api/supervision/kiosks/:kiosk/tests',
    { config: { roles: ALL_ROLES }, schema: { tags: ['supervision'], summary: 'a kiosk\'s test calls, newest first', params: KioskParams, querystring: HistoryQuery, response: { 200: Type.Array(Test) } } },
    async (req, reply) => {
      if (!(await hub.storage.getKiosk(req.params.kiosk))) return reply.status(404).send({ error: `no kiosk ${req.params.kiosk}`, statusCode: 404 });
      return svc.join(await hub.storage.supervision.history(req.params.kiosk, req.query.limit ?? 50, req.query.before));
    },
  );

  app.get<{ Params: Static<typeof TestParams> }>(
    '/api/supervision/tests/:testId',
    { config: { roles: ALL_ROLES }, schema: { tags: ['supervision'], summary: 'one test call: the kiosk\'s verdict and the answerer\'s record (either may be missing while the call is going on)', params: TestParams } },
    async (req, reply) => {
      const t = await hub.storage.supervision.test(req.params.testId);
      const a = await hub.storage.supervision.answer(req.params.testId);
      if (!t && !a) return reply.status(404).send({ error: `no test ${req.params.testId}`, statusCode: 404 });
      return { testId: req.params.testId, kiosk: t ?? null, answerer: a ?? null };
    },
  );

  app.post<{ Params: Static<typeof KioskParams> }>(
    '/api/supervision/kiosks/:kiosk/test',
    {
      config: { roles: [...TEST_ROLES] },
      schema: {
        tags: ['supervision'],
        summary: 'run a test call on a kiosk now (command supervision.test): 200 with the verdict when it passed, 409 when it failed or the kiosk is offline, 202 when it has not finished within 30 s',
        params: KioskParams,
        response: { 200: Outcome, 202: Outcome, 409: Outcome },
      },
    },
    async (req, reply) => {
      const kiosk = req.params.kiosk;
      if (!(await hub.storage.getKiosk(kiosk))) return reply.status(404).send({ error: `no kiosk ${kiosk}`, statusCode: 404 });
      await hub.audit(req, 'command.supervision.test', kiosk, 'sent');
      const r = await svc.testNow(req.session!, kiosk);
      return reply.status(r.ok ? 200 : r.pending ? 202 : 409).send(r);
    },
  );

  app.get<{ Querystring: { kiosk?: string; zone?: string } }>(
    '/api/supervision/faults',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags: ['supervision'],
        summary: 'every open fault: the kiosks\' own (as their last report says) and hub-link for kiosks the hub does not hear',
        querystring: Type.Object({ kiosk: Type.Optional(Type.String({ maxLength: 64 })), zone: Type.Optional(Type.String({ maxLength: 64 })) }),
        response: { 200: Type.Array(Fault) },
      },
    },
    async (req) => svc.faults(req.query),
  );

  app.get<{ Querystring: Static<typeof AvailabilityQuery> }>(
    '/api/supervision/availability',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags: ['supervision'],
        summary: 'per kiosk and per zone, per UTC day: the share of time it would have answered an alarm (rule: docs/supervision.md); format=csv for a spreadsheet',
        querystring: AvailabilityQuery,
        response: { 200: Type.Union([Type.Object({ from: Type.String(), to: Type.String(), zones: Type.Array(Figure), kiosks: Type.Array(Figure) }), Type.String()]) },
      },
    },
    async (req, reply) => {
      const today = Math.floor(Date.now() / 86_400_000) * 86_400_000;
      const to = req.query.to ? Date.parse(`${req.query.to}T00:00:00Z`) + 86_400_000 : today + 86_400_000;
      const from = req.query.from ? Date.parse(`${req.query.from}T00:00:00Z`) : to - 7 * 86_400_000;
      if (!(from < to)) return reply.status(400).send({ error: '"from" must be on or before "to"', statusCode: 400 });
      if (to - from > MAX_DAYS * 86_400_000) return reply.status(400).send({ error: `at most ${MAX_DAYS} days at once`, statusCode: 400 });
      const r = await svc.availability(from, to, req.query.zone);
      if (req.query.format !== 'csv') return r;
      let body = csvLine(['day', 'scope', 'kiosk', 'zone', 'available_s', 'measured_s', 'share']);
      for (const z of r.zones) body += csvLine([z.day, 'zone', '', z.zone, z.availableS, z.measuredS, z.share === null ? '' : z.share.toFixed(6)]);
      for (const k of r.kiosks) body += csvLine([k.day, 'kiosk', k.kiosk, k.zone, k.availableS, k.measuredS, k.share === null ? '' : k.share.toFixed(6)]);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="availability-${r.from.slice(0, 10)}.csv"`)
        .send(body);
    },
  );

  app.get('/supervision', { config: { roles: ALL_ROLES }, schema: { tags: ['supervision'], summary: 'the supervision report page: last test per kiosk, faults, availability', hide: true } }, async (req, reply) => {
    const s = req.session!;
    void reply.type('text/html; charset=utf-8').header('x-frame-options', 'DENY').header('cache-control', 'no-store');
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(hub.config.site.name.en)} — supervision</title>
<meta name="csrf-token" content="${esc(s.csrf)}"><meta name="role" content="${esc(s.role)}"><link rel="stylesheet" href="/static/console.css"></head>
<body><header><b>Help-point control centre</b> · supervision · ${esc(s.user)} (${esc(s.role)}) ·
<nav class="inline"><a href="/">fleet table</a> · <a href="/facilities">map</a> · <a href="/desk">desk</a></nav> ·
<form class="inline" method="post" action="/logout"><input type="hidden" name="_csrf" value="${esc(s.csrf)}"><button type="submit">log out</button></form></header>
<main><section><h2>Faults <small id="faults-at"></small></h2><table><thead><tr><th>Kiosk</th><th>Zone</th><th>Fault</th><th>Detail</th><th>Seen by</th></tr></thead><tbody id="faults"></tbody></table></section>
<section><h2>Test calls</h2><table><thead><tr><th>Kiosk</th><th>Zone</th><th>Last test</th><th>Verdict</th><th>Steps</th><th>Answerer heard</th><th>Overdue</th><th></th></tr></thead><tbody id="tests"></tbody></table></section>
<section><h2>Availability</h2><form id="avail"><label>From <input type="date" name="from"></label> <label>To <input type="date" name="to"></label>
<label>Zone <input name="zone" placeholder="all"></label> <button type="submit">Show</button> <a id="csv" href="/api/supervision/availability?format=csv">CSV</a></form>
<p class="hint">Share of time a kiosk would have answered an alarm: online, no blocking fault, last test passed and not overdue.</p>
<table><thead><tr><th>Day</th><th>Zone</th><th>Kiosk</th><th>Available</th><th>Share</th></tr></thead><tbody id="availability"></tbody></table></section></main>
<script src="/static/supervision/report.js"></script></body></html>`;
  });

  // Prometheus: a scraper presents the metrics token (hub config supervision.metricsTokenSha256);
  // an admin or facilities session may look too. Public route with its own check: a scraper has no session or CSRF token.
  app.get(
    '/metrics',
    { config: { public: true }, schema: { tags: ['supervision'], summary: 'Prometheus text format: fleet figures from the database (same on every instance: use max()) and this instance\'s own; bearer metrics token, or an admin/facilities session' } },
    async (req, reply) => {
      const want = svc.cfg.metricsTokenSha256;
      const m = /^Bearer (\S{16,512})$/.exec(req.headers.authorization ?? '');
      const byToken = !!want && !!m && timingSafeEqual(Buffer.from(sha256Hex(m[1]!)), Buffer.from(want));
      const bySession = !!req.session && METRICS_ROLES.includes(req.session.role);
      if (!byToken && !bySession) {
        if (m || req.session) return reply.status(403).send({ error: 'the metrics token, or an admin or facilities session, is needed', statusCode: 403 });
        return reply.status(401).header('www-authenticate', 'Bearer realm="metrics"').send({ error: 'present the metrics token (Authorization: Bearer ...)', statusCode: 401 });
      }
      const t = await metrics.text();
      return reply.type(t.contentType).header('cache-control', 'no-store').send(t.body);
    },
  );
}
