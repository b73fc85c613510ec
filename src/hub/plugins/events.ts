// Kiosk events and alarms for the consoles and for after-action review:
// filters (kiosk, zone, type, time), pagination by the `after` cursor, and
// export as CSV or JSON (streamed, page by page).
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { EventFilter, EventRow } from '../storage/storage.js';
import { csvLine } from '../csv.js';
import { ALL_ROLES } from './auth.js';

const Filter = Type.Object({
  kiosk: Type.Optional(Type.String({ maxLength: 64 })),
  zone: Type.Optional(Type.String({ maxLength: 64 })),
  type: Type.Optional(Type.String({ maxLength: 64 })),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  after: Type.Optional(Type.Integer({ minimum: 0, description: 'the serial of the last event of the previous page' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, default: 1000 })),
});
const Event = Type.Object({ serial: Type.Integer(), id: Type.String(), kiosk: Type.String(), seq: Type.Integer(), at: Type.String(), type: Type.String(), data: Type.Unknown(), receivedAt: Type.String() });

export default async function events(app: FastifyInstance) {
  const { hub } = app;

  app.get<{ Querystring: Static<typeof Filter> }>(
    '/api/events',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags: ['events'],
        summary: 'kiosk events in the order received, filtered; a full page sets X-Next-After to the cursor of the next',
        querystring: Filter,
        response: { 200: Type.Array(Event) },
      },
    },
    async (req, reply) => {
      const limit = req.query.limit ?? 1000;
      const list = await hub.storage.listEvents({ ...req.query, limit });
      if (list.length === limit) void reply.header('x-next-after', String(list[list.length - 1]!.serial));
      return list;
    },
  );

  const ExportQ = Type.Composite([Type.Omit(Filter, ['limit']), Type.Object({ format: Type.Union([Type.Literal('csv'), Type.Literal('json')], { default: 'csv' }) })]);
  app.get<{ Querystring: Static<typeof ExportQ> }>(
    '/api/events/export',
    {
      config: { roles: ALL_ROLES },
      schema: { tags: ['events'], summary: 'every matching event as a CSV or JSON download', querystring: ExportQ },
    },
    async (req, reply) => {
      const { format, ...f } = req.query;
      await hub.audit(req, 'events.export', JSON.stringify(f).slice(0, 200), 'ok', { format });
      const name = `events-${new Date().toISOString().replace(/[:.]/g, '-')}.${format}`;
      void reply.header('content-disposition', `attachment; filename="${name}"`).type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8');
      return reply.send(Readable.from(exportEvents(app, f, format)));
    },
  );

  app.get<{ Querystring: { kiosk?: string; open?: boolean } }>(
    '/api/alarms',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags: ['events'],
        summary: 'one row per alarm (from kiosk alarm.state events): its latest state',
        querystring: Type.Object({ kiosk: Type.Optional(Type.String({ maxLength: 64 })), open: Type.Optional(Type.Boolean({ description: 'only alarms not reset' })) }),
        response: { 200: Type.Array(Type.Object({ alarmId: Type.String(), kiosk: Type.String(), state: Type.String(), data: Type.Unknown(), updatedAt: Type.String() })) },
      },
    },
    async (req) => hub.storage.listAlarms(req.query),
  );
}

async function* exportEvents(app: FastifyInstance, f: EventFilter, format: 'csv' | 'json'): AsyncGenerator<string> {
  const cols: (keyof EventRow)[] = ['serial', 'id', 'kiosk', 'seq', 'at', 'type', 'receivedAt', 'data'];
  yield format === 'csv' ? csvLine(cols) : '[';
  let after = f.after ?? 0;
  let first = true;
  for (;;) {
    const page = await app.hub.storage.listEvents({ ...f, after, limit: 5000 });
    for (const e of page) {
      yield format === 'csv' ? csvLine(cols.map((c) => e[c])) : `${first ? '' : ','}\n${JSON.stringify(e)}`;
      first = false;
    }
    if (page.length < 5000) break;
    after = page[page.length - 1]!.serial;
  }
  if (format === 'json') yield '\n]\n';
}
