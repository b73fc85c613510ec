// Incidents and drills: declare on zones with a level (and its warning
// colour), update (level, blocked exits, guidance), notes, close with a
// summary; the timeline with the receipts of its PA actions; export as CSV,
// JSON and a printable page for the after-action review. Drills are listed
// and exported apart from real incidents. Registered by plugins/pa.ts, on the
// same PA engine.
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { PaHub } from '../pa/service.js';
import { csvLine } from '../csv.js';
import { printableReport } from '../pa/pages.js';
import { ALL_ROLES } from './auth.js';

const DISPATCH: ['dispatcher', 'admin'] = ['dispatcher', 'admin'];
const LocalText = Type.Object({ en: Type.String({ minLength: 1, maxLength: 2000 }), 'zh-CN': Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })) }, { additionalProperties: false });
const IdParam = Type.Object({ id: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,127}$' }) });
const Exits = Type.Array(Type.String({ maxLength: 64 }), { maxItems: 50 });
const Kind = Type.Union([Type.Literal('incident'), Type.Literal('evacuation')]);

export default async function incidentRoutes(app: FastifyInstance, opts: { engine: PaHub }) {
  const { hub } = app;
  const { engine } = opts;
  const inc = engine.incidents;

  app.get<{ Querystring: { drill?: boolean; state?: 'open' | 'closed' } }>(
    '/api/incidents',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags: ['incidents'],
        summary: 'incidents, newest first; drill=true lists drills only, drill=false real incidents only',
        querystring: Type.Object({ drill: Type.Optional(Type.Boolean()), state: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('closed')])) }),
      },
    },
    async (req) => hub.storage.pa.listIncidents({ drill: req.query.drill, state: req.query.state }),
  );

  const Declare = Type.Object(
    {
      zones: Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: 200 }),
      level: Type.String({ maxLength: 64 }),
      title: Type.String({ minLength: 1, maxLength: 500 }),
      kind: Type.Optional(Kind),
      guidance: Type.Optional(LocalText),
      blockedExits: Type.Optional(Exits),
      drill: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  );
  app.post<{ Body: Static<typeof Declare> }>(
    '/api/incidents',
    { config: { roles: DISPATCH }, schema: { tags: ['incidents'], summary: 'declare an incident (or a drill) on zones: screens, the level\'s message, the timeline', body: Declare } },
    async (req, reply) => {
      const r = await inc.declare({ ...req.body, by: req.session!.user, role: req.session!.role });
      await hub.audit(req, req.body.drill ? 'drill.declare' : 'incident.declare', req.body.zones.join(','), r.ok ? `ok: ${r.value.id}` : `refused: ${r.error}`, { level: req.body.level });
      if (!r.ok) return reply.status(r.status).send({ error: r.error, statusCode: r.status });
      return reply.status(201).send(r.value);
    },
  );

  app.get<{ Params: Static<typeof IdParam> }>(
    '/api/incidents/:id',
    { config: { roles: ALL_ROLES }, schema: { tags: ['incidents'], summary: 'an incident with its timeline and the receipts of its PA actions', params: IdParam } },
    async (req, reply) => (await inc.report(req.params.id)) ?? reply.status(404).send({ error: 'no such incident', statusCode: 404 }),
  );

  const Update = Type.Object(
    { level: Type.Optional(Type.String({ maxLength: 64 })), blockedExits: Type.Optional(Exits), guidance: Type.Optional(LocalText), title: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })), kind: Type.Optional(Kind) },
    { additionalProperties: false },
  );
  app.post<{ Params: Static<typeof IdParam>; Body: Static<typeof Update> }>(
    '/api/incidents/:id/update',
    { config: { roles: DISPATCH }, schema: { tags: ['incidents'], summary: 'change the level, blocked exits, guidance or title; screens follow at once', params: IdParam, body: Update } },
    async (req, reply) => {
      const r = await inc.update(req.params.id, req.body, req.session!.user, req.session!.role);
      await hub.audit(req, 'incident.update', req.params.id, r.ok ? 'ok' : `refused: ${r.error}`, req.body);
      if (!r.ok) return reply.status(r.status).send({ error: r.error, statusCode: r.status });
      return r.value;
    },
  );

  const Note = Type.Object({ text: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false });
  app.post<{ Params: Static<typeof IdParam>; Body: Static<typeof Note> }>(
    '/api/incidents/:id/note',
    { config: { roles: DISPATCH }, schema: { tags: ['incidents'], summary: 'add a note to the timeline', params: IdParam, body: Note } },
    async (req, reply) => {
      const r = await inc.note(req.params.id, req.body.text, req.session!.user);
      if (!r.ok) return reply.status(r.status).send({ error: r.error, statusCode: r.status });
      return r.value;
    },
  );

  const Close = Type.Object({ summary: Type.String({ minLength: 1, maxLength: 5000 }) }, { additionalProperties: false });
  app.post<{ Params: Static<typeof IdParam>; Body: Static<typeof Close> }>(
    '/api/incidents/:id/close',
    { config: { roles: DISPATCH }, schema: { tags: ['incidents'], summary: 'close with a summary: screens back to normal, repeated messages stop', params: IdParam, body: Close } },
    async (req, reply) => {
      const r = await inc.close(req.params.id, req.body.summary, req.session!.user, req.session!.role);
      await hub.audit(req, 'incident.close', req.params.id, r.ok ? 'ok' : `refused: ${r.error}`);
      if (!r.ok) return reply.status(r.status).send({ error: r.error, statusCode: r.status });
      return r.value;
    },
  );

  app.get<{ Params: Static<typeof IdParam>; Querystring: { format?: 'csv' | 'json' } }>(
    '/api/incidents/:id/export',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags: ['incidents'],
        summary: 'the incident\'s record as a download: CSV (timeline, then every receipt) or JSON',
        params: IdParam,
        querystring: Type.Object({ format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('json')])) }),
      },
    },
    async (req, reply) => {
      const r = await inc.report(req.params.id);
      if (!r) return reply.status(404).send({ error: 'no such incident', statusCode: 404 });
      const format = req.query.format ?? 'csv';
      await hub.audit(req, 'incident.export', req.params.id, 'ok', { format });
      const name = `${r.incident.drill ? 'DRILL-' : ''}${r.incident.id}.${format}`;
      void reply.header('content-disposition', `attachment; filename="${name}"`);
      if (format === 'json') return reply.type('application/json; charset=utf-8').send(JSON.stringify({ exportedAt: new Date().toISOString(), exportedBy: req.session!.user, ...r }, null, 2));
      const i = r.incident;
      let out = csvLine(['record', i.drill ? 'DRILL' : 'INCIDENT', i.id, i.title, `level ${i.level}`, i.colour ?? '', i.zones.join(' '), i.state, i.declaredBy, i.declaredAt, i.closedBy ?? '', i.closedAt ?? '', i.summary ?? '']);
      out += csvLine(['at', 'by', 'kind', 'text', 'detail']);
      for (const t of r.timeline) out += csvLine([t.at, t.by, t.kind, t.text, t.detail]);
      out += csvLine([]);
      out += csvLine(['action', 'kind', 'kiosk', 'state', 'reason', 'via', 'delivered', 'started', 'ended']);
      for (const a of r.actions) for (const x of a.receipts) out += csvLine([a.id, a.kind, x.kiosk, x.state, x.reason ?? '', x.via ?? '', x.deliveredAt ?? '', x.startedAt ?? '', x.endedAt ?? '']);
      return reply.type('text/csv; charset=utf-8').send(out);
    },
  );

  app.get<{ Params: Static<typeof IdParam> }>(
    '/incidents/:id/print',
    { config: { roles: ALL_ROLES }, schema: { tags: ['incidents'], summary: 'the incident\'s record as a printable page', params: IdParam, hide: true } },
    async (req, reply) => {
      const r = await inc.report(req.params.id);
      if (!r) return reply.status(404).send({ error: 'no such incident', statusCode: 404 });
      await hub.audit(req, 'incident.print', req.params.id, 'ok');
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(printableReport(hub.config.site.name.en, r, req.session!.user));
    },
  );
}
