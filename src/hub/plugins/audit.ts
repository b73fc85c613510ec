// The audit trail: who did what to what, when, with which result. Every
// change and every command writes one record (see HubContext.audit);
// admins query and export it.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { csvLine } from '../csv.js';

const Filter = Type.Object({
  user: Type.Optional(Type.String({ maxLength: 128 })),
  action: Type.Optional(Type.String({ maxLength: 64 })),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  after: Type.Optional(Type.Integer({ minimum: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, default: 1000 })),
});
const Entry = Type.Object({
  serial: Type.Integer(),
  at: Type.String(),
  user: Type.String(),
  role: Type.String(),
  action: Type.String(),
  target: Type.Optional(Type.String()),
  result: Type.String(),
  detail: Type.Optional(Type.Unknown()),
  address: Type.Optional(Type.String()),
});

export default async function audit(app: FastifyInstance) {
  const { hub } = app;
  app.get<{ Querystring: Static<typeof Filter> }>(
    '/api/audit',
    { config: { roles: ['admin'] }, schema: { tags: ['audit'], summary: 'audit records, oldest first, filtered; paged by `after`', querystring: Filter, response: { 200: Type.Array(Entry) } } },
    async (req) => hub.storage.listAudit(req.query),
  );

  const ExportQ = Type.Composite([Type.Omit(Filter, ['limit']), Type.Object({ format: Type.Union([Type.Literal('csv'), Type.Literal('json')], { default: 'csv' }) })]);
  app.get<{ Querystring: Static<typeof ExportQ> }>(
    '/api/audit/export',
    { config: { roles: ['admin'] }, schema: { tags: ['audit'], summary: 'every matching audit record as a CSV or JSON download', querystring: ExportQ } },
    async (req, reply) => {
      const { format, ...f } = req.query;
      await hub.audit(req, 'audit.export', '', 'ok', { format });
      void reply.header('content-disposition', `attachment; filename="audit.${format}"`).type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8');
      const cols = ['serial', 'at', 'user', 'role', 'action', 'target', 'result', 'detail', 'address'] as const;
      async function* rows() {
        yield format === 'csv' ? csvLine([...cols]) : '[';
        let after = f.after ?? 0;
        let first = true;
        for (;;) {
          const page = await hub.storage.listAudit({ ...f, after, limit: 5000 });
          for (const e of page) {
            yield format === 'csv' ? csvLine(cols.map((c) => e[c])) : `${first ? '' : ','}\n${JSON.stringify(e)}`;
            first = false;
          }
          if (page.length < 5000) break;
          after = page[page.length - 1]!.serial;
        }
        if (format === 'json') yield '\n]\n';
      }
      return reply.send(Readable.from(rows()));
    },
  );
}
