// The fleet: every kiosk with its state (from any instance), enrolment with a
// token shown once, token rotation, revocation that closes the kiosk's socket
// at once on whichever instance holds it, and a remote restart.
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { newToken, sha256Hex } from '../passwords.js';
import { Location } from '../../config/schema/site.js';
import { ALL_ROLES } from './auth.js';
import { commandOneKiosk } from '../kiosk-command.js';

export const KioskStatus = Type.Object({
  id: Type.String(),
  zone: Type.String(),
  location: Type.Unknown(),
  online: Type.Boolean(),
  lastSeen: Type.Optional(Type.Number()),
  firmware: Type.Optional(Type.String()),
  configVersion: Type.Optional(Type.Integer()),
  faults: Type.Array(Type.Object({ code: Type.String(), detail: Type.String() })),
  outbox: Type.Integer(),
  revoked: Type.Boolean(),
  instance: Type.Optional(Type.String()),
});
export type KioskStatus = Static<typeof KioskStatus>;

const IdParams = Type.Object({ id: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' }) });
const RestartOutcome = Type.Object({ id: Type.Optional(Type.String()), ok: Type.Boolean(), pending: Type.Optional(Type.Boolean()), offline: Type.Optional(Type.Boolean()), error: Type.Optional(Type.String()) });

export async function fleetList(app: FastifyInstance, zone?: string): Promise<KioskStatus[]> {
  const { hub } = app;
  const rows = await hub.storage.listKiosks({ zone });
  const local = hub.link.localView();
  const now = Date.now();
  return rows.map((r) => {
    const mine = local.get(r.id);
    const online = mine ? mine.online : r.instanceId !== null && r.instanceId !== hub.instanceId && (r.lastSeen ?? 0) > now - hub.offlineAfterMs;
    const lastSeen = mine?.lastSeen ?? r.lastSeen ?? undefined;
    return {
      id: r.id,
      zone: r.zone,
      location: r.location,
      online,
      ...(lastSeen ? { lastSeen } : {}),
      ...(r.firmware ? { firmware: r.firmware } : {}),
      configVersion: r.configVersion,
      faults: r.faults,
      outbox: r.outbox,
      revoked: r.revoked,
      ...(online && r.instanceId ? { instance: r.instanceId } : {}),
    };
  });
}

export default async function fleet(app: FastifyInstance) {
  const { hub } = app;

  app.get<{ Querystring: { zone?: string } }>(
    '/api/fleet',
    {
      config: { roles: ALL_ROLES },
      schema: { tags: ['fleet'], summary: 'every kiosk and its state', querystring: Type.Object({ zone: Type.Optional(Type.String({ maxLength: 64 })) }), response: { 200: Type.Array(KioskStatus) } },
    },
    async (req) => fleetList(app, req.query.zone),
  );

  const Enrol = Type.Object(
    { id: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' }), zone: Type.String({ minLength: 1, maxLength: 64 }), location: Location, baseConfig: Type.Optional(Type.String({ maxLength: 500 })) },
    { additionalProperties: false },
  );
  app.post<{ Body: Static<typeof Enrol> }>(
    '/api/kiosks',
    {
      config: { roles: ['facilities', 'admin'] },
      bodyLimit: 16 * 1024,
      schema: { tags: ['fleet'], summary: 'enrol a kiosk: its token is in this reply only (the hub keeps its hash)', body: Enrol, response: { 201: Type.Object({ id: Type.String(), token: Type.String() }) } },
    },
    async (req, reply) => {
      const token = newToken();
      const b = req.body;
      const ok = await hub.storage.enrolKiosk({ id: b.id, zone: b.zone, location: b.location, baseConfig: b.baseConfig }, sha256Hex(token), req.session!.user);
      await hub.audit(req, 'kiosk.enrol', b.id, ok ? 'ok' : 'refused: exists');
      if (!ok) return reply.status(409).send({ error: `kiosk ${b.id} exists; rotate its token instead`, statusCode: 409 });
      await hub.bus.publish({ t: 'kiosk', id: b.id, change: 'enrolled' });
      return reply.status(201).send({ id: b.id, token });
    },
  );

  app.post<{ Params: Static<typeof IdParams> }>(
    '/api/kiosks/:id/token',
    {
      config: { roles: ['facilities', 'admin'] },
      bodyLimit: 4096,
      schema: { tags: ['fleet'], summary: 'rotate a kiosk token: the new one is in this reply only; the old one is refused from now on', params: IdParams, response: { 200: Type.Object({ id: Type.String(), token: Type.String() }) } },
    },
    async (req, reply) => {
      const token = newToken();
      const ok = await hub.storage.setToken(req.params.id, sha256Hex(token));
      await hub.audit(req, 'kiosk.token.rotate', req.params.id, ok ? 'ok' : 'refused: unknown kiosk');
      if (!ok) return reply.status(404).send({ error: 'unknown kiosk', statusCode: 404 });
      await hub.bus.publish({ t: 'kiosk', id: req.params.id, change: 'token' });
      return { id: req.params.id, token };
    },
  );

  app.post<{ Params: Static<typeof IdParams> }>(
    '/api/kiosks/:id/restart',
    {
      config: { roles: ['facilities', 'admin'] },
      bodyLimit: 4096,
      schema: {
        tags: ['fleet'],
        summary:
          "restart a kiosk's process (command kiosk.restart; its supervisor starts it again): 200 when the kiosk accepted and is restarting, 409 when it refused (a call, a test or an alarm open: the error says which) or is offline, 202 when it has not answered within 5 s",
        params: IdParams,
        response: { 200: RestartOutcome, 202: RestartOutcome, 409: RestartOutcome },
      },
    },
    async (req, reply) => {
      const kiosk = req.params.id;
      if (!(await hub.storage.getKiosk(kiosk))) return reply.status(404).send({ error: 'unknown kiosk', statusCode: 404 });
      // who asked comes from the session, never from the body
      const r = await commandOneKiosk(hub, { session: req.session!, ip: req.ip }, kiosk, 'kiosk.restart', { by: `hub:${req.session!.user}` }, { waitMs: 5000 });
      return reply.status(r.ok ? 200 : r.pending ? 202 : 409).send(r);
    },
  );

  app.post<{ Params: Static<typeof IdParams> }>(
    '/api/kiosks/:id/revoke',
    {
      config: { roles: ['facilities', 'admin'] },
      bodyLimit: 4096,
      schema: { tags: ['fleet'], summary: 'revoke a kiosk: its token is refused and its connection closed at once', params: IdParams, response: { 200: Type.Object({ id: Type.String(), revoked: Type.Boolean() }) } },
    },
    async (req, reply) => {
      const ok = await hub.storage.revokeKiosk(req.params.id);
      await hub.audit(req, 'kiosk.revoke', req.params.id, ok ? 'ok' : 'refused: unknown kiosk');
      if (!ok) return reply.status(404).send({ error: 'unknown kiosk', statusCode: 404 });
      await hub.bus.publish({ t: 'kiosk', id: req.params.id, change: 'revoked' });
      return { id: req.params.id, revoked: true };
    },
  );
}
