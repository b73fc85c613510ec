// A reboot of a kiosk's board from the facilities console (command
// kiosk.reboot, src/hub/facilities/reboots.ts): asked here, followed in
// GET /api/kiosks/:id/reboots and, once it ends, in the command's result.
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ALL_ROLES } from './auth.js';
import type { RebootRow } from '../storage/reboots.js';

const IdParams = Type.Object({ id: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' }) });
const Reboot = Type.Object({
  commandId: Type.String(),
  kiosk: Type.String(),
  by: Type.String(),
  state: Type.Union(['asked', 'rebooting', 'back', 'not-back', 'refused', 'failed'].map((s) => Type.Literal(s))),
  askedAt: Type.String(),
  deadline: Type.String(),
  bootBefore: Type.String(),
  handedAt: Type.Union([Type.String(), Type.Null()]),
  endedAt: Type.Union([Type.String(), Type.Null()]),
  bootAfter: Type.Union([Type.String(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
});
const AskReply = Type.Object({ id: Type.Optional(Type.String()), state: Type.Optional(Type.String()), error: Type.Optional(Type.String()), reboot: Type.Optional(Reboot) });

/** How long the ask waits for the kiosk's answer (handed to the system, or why not). */
const ANSWER_WAIT_MS = 5000;

export default async function reboot(app: FastifyInstance) {
  const { hub } = app;

  app.post<{ Params: Static<typeof IdParams> }>(
    '/api/kiosks/:id/reboot',
    {
      config: { roles: ['facilities', 'admin'] },
      bodyLimit: 4096,
      schema: {
        tags: ['fleet'],
        summary:
          "reboot a kiosk's board (command kiosk.reboot): 202 when the kiosk handed the reboot to its system (state rebooting) or has not answered within 5 s (state asked); the command's result follows once the kiosk is back with another boot id, or not back after rebootTimeoutS (GET /api/kiosks/:id/reboots, GET /api/commands/:id). 409 when refused: by the kiosk (a call, a page, a test or an alarm open; no system.rebootCommand) or its reboot command failed, or by the hub (offline, no boot id reported, a reboot under way)",
        params: IdParams,
        response: { 202: AskReply, 409: AskReply },
      },
    },
    async (req, reply) => {
      const kiosk = req.params.id;
      if (!(await hub.storage.getKiosk(kiosk))) return reply.status(404).send({ error: 'unknown kiosk', statusCode: 404 });
      const who = { session: req.session!, ip: req.ip };
      // who asked comes from the session, never from the body
      const asked = await hub.facilities.reboots.ask(kiosk, req.session!);
      if (!asked.ok) {
        await hub.audit(who, 'command.kiosk.reboot', kiosk, `refused: ${asked.error}`);
        return reply.status(409).send({ state: 'refused', error: asked.error });
      }
      const id = asked.reboot.commandId;
      await hub.audit(who, 'command.kiosk.reboot', kiosk, 'sent', { id });
      let r: RebootRow | undefined = asked.reboot;
      const until = Date.now() + ANSWER_WAIT_MS;
      while (r && r.state === 'asked' && Date.now() < until) {
        await new Promise((res) => setTimeout(res, 50));
        r = await hub.storage.reboots.get(id);
      }
      if (!r) return reply.status(409).send({ id, error: 'the reboot record is gone' });
      if (r.state === 'refused' || r.state === 'failed') return reply.status(409).send({ id, state: r.state, error: r.error ?? r.state, reboot: r });
      return reply.status(202).send({ id, state: r.state, ...(r.state === 'asked' ? { error: 'the kiosk has not answered yet' } : {}), reboot: r });
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/api/kiosks/:id/reboots',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags: ['fleet'],
        summary: "a kiosk's boot id as last reported and its reboots asked from the hub, newest first (20): asked, rebooting, back (endedAt: when it came back), not-back, refused, failed",
        params: IdParams,
        response: { 200: Type.Object({ kiosk: Type.String(), bootId: Type.Union([Type.String(), Type.Null()]), reboots: Type.Array(Reboot) }) },
      },
    },
    async (req, reply) => {
      const kiosk = req.params.id;
      if (!(await hub.storage.getKiosk(kiosk))) return reply.status(404).send({ error: 'unknown kiosk', statusCode: 404 });
      return { kiosk, bootId: await hub.storage.reboots.bootId(kiosk), reboots: await hub.storage.reboots.list(kiosk) };
    },
  );
}
