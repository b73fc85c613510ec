// Commands to kiosks (PA, screen, incident and drill modes, crowd level, door
// relay, call back, desk info, chat, alarm actions): stored with a pending
// result per online kiosk, announced to every instance by id, delivered by
// whichever instance holds each kiosk's socket; results come back to the table.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { Command } from '../../protocol/messages.js';
import { ALL_ROLES } from './auth.js';

/** Commands with a route of their own, for other roles: kiosk.restart and kiosk.reboot (facilities, POST /api/kiosks/:id/restart, /reboot). */
const OWN_ROUTE = new Set(['kiosk.restart', 'kiosk.reboot']);

/** Command names the kiosks understand (protocol/messages.ts), plus the alarm actions of the alarm contract. */
export const COMMAND_NAMES = [...new Set([...(Command.anyOf as { properties: { command: { const: string } } }[]).map((s) => s.properties.command.const), 'alarm.ack', 'alarm.reset'])].filter((n) => !OWN_ROUTE.has(n));

const Send = Type.Object(
  {
    kiosks: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20000 })),
    zone: Type.Optional(Type.String({ maxLength: 64 })),
    command: Type.Union(COMMAND_NAMES.map((n) => Type.Literal(n))),
    args: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);
const Result = Type.Union([Type.Null(), Type.Object({ ok: Type.Boolean(), error: Type.Optional(Type.String()) })]);

export default async function commands(app: FastifyInstance) {
  const { hub } = app;

  app.post<{ Body: Static<typeof Send> }>(
    '/api/commands',
    {
      config: { roles: ['dispatcher', 'admin'] },
      bodyLimit: 64 * 1024,
      schema: {
        tags: ['commands'],
        summary: 'send a command to kiosks (by id) or a whole zone; online kiosks get it at once, each answers with a result',
        body: Send,
        response: { 202: Type.Object({ id: Type.String(), sent: Type.Array(Type.String()), offline: Type.Array(Type.String()) }) },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const targets = await hub.storage.kioskIds({ zone: b.zone, ids: b.kiosks });
      if (targets.length === 0) return reply.status(400).send({ error: 'name "kiosks" or a "zone" with kiosks in it', statusCode: 400 });
      const args = { ...(b.args ?? {}) };
      // Who acknowledged an alarm comes from the session, never from the body (alarm contract).
      if (b.command === 'alarm.ack' || b.command === 'alarm.reset') args.by = `hub:${req.session!.user}`;
      // Asked of this instance's sockets directly: no copy of its whole view (thousands of kiosks) per command.
      const online = await hub.storage.onlineKiosks(
        targets.filter((k) => !hub.link.isLocal(k)),
        hub.offlineAfterMs,
      );
      const sent = targets.filter((k) => hub.link.isLocal(k) || online.has(k));
      const sentSet = new Set(sent);
      const offline = targets.filter((k) => !sentSet.has(k));
      const id = `cmd-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
      await hub.storage.createCommand({ id, command: b.command, args, by: req.session!.user, role: req.session!.role, kiosks: sent });
      await hub.link.commandStored({ id, command: b.command, args, kiosks: sent });
      await hub.audit(req, `command.${b.command}`, b.zone ? `zone:${b.zone}` : targets.slice(0, 20).join(','), 'sent', { id, sent: sent.length, offline: offline.length });
      req.log.info({ command: b.command, id, sent: sent.length, offline }, 'command sent');
      return reply.status(202).send({ id, sent, offline });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/commands/:id',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags: ['commands'],
        summary: 'a command and the result of each kiosk it was sent to (null: no answer yet)',
        params: Type.Object({ id: Type.String({ maxLength: 128 }) }),
        response: {
          200: Type.Union([
            Type.Null(),
            Type.Object({ id: Type.String(), command: Type.String(), args: Type.Unknown(), by: Type.String(), at: Type.Number(), results: Type.Record(Type.String(), Result) }),
          ]),
        },
      },
    },
    async (req) => (await hub.storage.getCommand(req.params.id)) ?? null,
  );

  app.get<{ Params: { id: string } }>(
    '/api/commands/:id/summary',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags: ['commands'],
        summary: 'how many kiosks a command was sent to, and how many answered ok or failed',
        params: Type.Object({ id: Type.String({ maxLength: 128 }) }),
        response: { 200: Type.Union([Type.Null(), Type.Object({ total: Type.Integer(), pending: Type.Integer(), ok: Type.Integer(), failed: Type.Integer() })]) },
      },
    },
    async (req) => (await hub.storage.commandSummary(req.params.id)) ?? null,
  );
}
