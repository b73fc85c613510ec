// The dispatch desk's routes (issue 12): the board of open alarms, the desk a
// dispatcher holds (its SIP account for the browser phone), claims, and the
// desk's actions on a kiosk: acknowledge, reset, open the door, chat. Live
// changes reach the board page on the push topic "desk" (GET
// /api/stream?topics=desk, src/hub/plugins/stream.ts).
//
// Every action goes to the kiosk as a hub command (protocol/messages.ts) and
// the answer says what the kiosk did (or that it has not answered yet); who
// acted always comes from the session, never from the body.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { DeskService, type DeskConfig } from '../desk/service.js';
import { DeskPasswordError } from '../desk/sip-passwords.js';
import { WEB_DIST } from '../web-bundle.js';
import { deskPage } from '../desk/page.js';
import { historyPage, kioskHistory } from '../desk/history.js';
import type { BoardRow } from '../storage/desk.js';
import { ListenIn, ListenInError, LISTEN_ROLES } from '../desk/listen-in.js';

const DESK_ROLES = ['dispatcher', 'admin'] as const;
const roles = [...DESK_ROLES];
/** listening to a call another desk answered: declared here, so the role check is the router's like every route's */
const listenRoles = [...LISTEN_ROLES];
/** a kiosk's history is read by facilities staff too (linked from the fleet list) */
const historyRoles = [...DESK_ROLES, 'facilities' as const];

const AlarmParams = Type.Object({ alarmId: Type.String({ minLength: 1, maxLength: 128 }) });
const KioskParams = Type.Object({ kiosk: Type.String({ minLength: 1, maxLength: 64 }) });
const ChatBody = Type.Object(
  {
    text: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    reply: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'a quick reply by id: sent in the caller\'s language' })),
    callId: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: false },
);
const ClaimBody = Type.Object(
  {
    mode: Type.Optional(Type.Union([Type.Literal('answer'), Type.Literal('pickup'), Type.Literal('listen')])),
    sipCallId: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'the SIP Call-ID of the call this desk answers (kept for listen-in, only from the claim\'s winner)' })),
  },
  { additionalProperties: false },
);
const ListenParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const ListenAnswer = Type.Object({ sdp: Type.String({ minLength: 10, maxLength: 20_000 }) }, { additionalProperties: false });
const Outcome = Type.Object({ ok: Type.Boolean(), pending: Type.Optional(Type.Boolean()), error: Type.Optional(Type.String()), id: Type.Optional(Type.String()) }, { additionalProperties: true });

export default async function desk(app: FastifyInstance) {
  const { hub } = app;
  // Without a desk section the board still works (it needs no SIP account); taking a desk says why it cannot.
  const cfg: DeskConfig = hub.config.desk ?? { sip: { wsUrl: 'ws://127.0.0.1/', domain: '' }, desks: [], listenIn: false, claimLapseS: 15 };
  const svc = new DeskService(hub, cfg);
  svc.start();
  app.addHook('onClose', async () => svc.stop());
  const listenIn = new ListenIn(hub, cfg);
  listenIn.start();
  hub.sessionEnded.push((s) => listenIn.endSession(s.idSha256, 'logged out'));
  app.addHook('onClose', async () => listenIn.stopAll());

  const ip = (req: FastifyRequest) => req.ip;

  /** The open alarm by id (404 when it is closed or unknown). */
  async function openAlarm(alarmId: string, reply: FastifyReply): Promise<BoardRow | undefined> {
    const row = await svc.row(alarmId);
    if (!row) void reply.status(404).send({ error: `no open alarm ${alarmId}`, statusCode: 404 });
    return row;
  }

  // ---- the page ------------------------------------------------------------------------

  app.get('/desk', { config: { roles }, schema: { tags: ['desk'], summary: 'the dispatch desk: the alarm board and the browser phone', hide: true } }, async (req, reply) => {
    void reply.type('text/html; charset=utf-8').header('x-frame-options', 'DENY').header('cache-control', 'no-store');
    return deskPage(hub.config.site.name.en, req.session!);
  });

  app.get<{ Params: { file: string } }>(
    '/desk/:file',
    { config: { roles }, schema: { tags: ['desk'], summary: 'the desk page\'s script bundles', hide: true, params: Type.Object({ file: Type.String({ pattern: '^(board|phone)\\.js(\\.map)?$' }) }) } },
    async (req, reply) => {
      const data = await readFile(path.join(WEB_DIST, 'desk', req.params.file)).catch(() => undefined);
      if (!data) return reply.status(503).send({ error: 'the desk bundles are not built: npm run build', statusCode: 503 });
      return reply.type(req.params.file.endsWith('.map') ? 'application/json' : 'text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(data);
    },
  );

  // ---- the board ----------------------------------------------------------------------------

  app.get(
    '/api/desk/board',
    { config: { roles }, schema: { tags: ['desk'], summary: 'every open alarm of the fleet (emergency first, then oldest), information calls in progress, the desks held, quick replies; follow changes on /api/stream?topics=desk' } },
    async (req) => ({
      now: Date.now(),
      rows: await hub.storage.desk.board(),
      seats: await svc.seats(),
      mySeat: (await hub.storage.desk.seatOf(req.session!.idSha256))?.desk ?? null,
      quickReplies: svc.cfg.quickReplies,
      listenIn: svc.cfg.listenIn,
      /** this session may listen to a call another desk answered (listen-in on, its role, rtpengine configured) */
      listenCall: !listenIn.refusal(req.session!),
      map: hub.config.site.map ? { width: hub.config.site.map.width, height: hub.config.site.map.height, floorplan: !!hub.config.site.map.floorplan } : null,
    }),
  );

  // ---- the desk a dispatcher holds ---------------------------------------------------------------

  app.post(
    '/api/desk/seat',
    {
      config: { roles },
      schema: {
        tags: ['desk'],
        summary:
          'take a desk (or keep the one held): its SIP account for the browser phone (with desk.sip.rpc a password of this session\'s own, new on each call); 409 when every desk is taken, 503 when the SIP server did not take the new password',
      },
    },
    async (req, reply) => {
      if (!hub.config.desk) return reply.status(409).send({ error: 'this hub has no console desks (hub config "desk")', statusCode: 409 });
      let seat: Awaited<ReturnType<DeskService['takeDesk']>>;
      try {
        seat = await svc.takeDesk(req.session!);
      } catch (err) {
        if (!(err instanceof DeskPasswordError)) throw err;
        await hub.audit(req, 'desk.take', '', 'failed', { error: err.message });
        return reply.status(503).send({ error: err.message, statusCode: 503 });
      }
      if (!seat) return reply.status(409).send({ error: 'every desk is taken', statusCode: 409 });
      await hub.audit(req, 'desk.take', seat.desk, 'ok');
      return { desk: seat.desk, name: seat.name, sip: { wsUrl: cfg.sip.wsUrl, domain: cfg.sip.domain, user: seat.desk, password: seat.password } };
    },
  );

  app.post(
    '/api/desk/seat/leave',
    { config: { roles }, schema: { tags: ['desk'], summary: 'let go of the desk held (its claims end); ok false when the SIP server did not take the desk\'s new password (the hub tries again)' } },
    async (req) => {
      const left = await svc.leaveDesk(req.session!, 'left the desk');
      if (!left) return { ok: true, desk: null };
      if (left.locked === false) {
        await hub.audit(req, 'desk.leave', left.desk, 'failed', { error: 'SIP password not replaced' });
        return { ok: false, desk: left.desk, error: `desk ${left.desk} let go, but the SIP server did not take its new password: the old one works until the hub reaches it` };
      }
      await hub.audit(req, 'desk.leave', left.desk, 'ok');
      return { ok: true, desk: left.desk };
    },
  );

  // ---- claims: exactly one desk takes an alarm ----------------------------------------------------

  app.post<{ Params: Static<typeof AlarmParams>; Body: Static<typeof ClaimBody> }>(
    '/api/desk/alarms/:alarmId/claim',
    { config: { roles }, schema: { tags: ['desk'], summary: 'take an alarm for the desk held (before answering its call); 409 with the holder when another desk has it', params: AlarmParams, body: ClaimBody } },
    async (req, reply) => {
      const seat = await hub.storage.desk.seatOf(req.session!.idSha256);
      if (!seat) return reply.status(409).send({ error: 'take a desk first', statusCode: 409 });
      const row = await openAlarm(req.params.alarmId, reply);
      if (!row) return reply;
      const r = await svc.claim(req.session!, seat.desk, row, req.body?.mode ?? 'answer');
      if (!r.ok) return reply.status(409).send({ error: `taken by ${r.holder.user} at ${r.holder.desk}`, statusCode: 409, holder: { user: r.holder.user, desk: r.holder.desk } });
      // Trusted because it comes from the session that just won the claim, for the desk it holds.
      if (req.body?.sipCallId) listenIn.noteCall(row.ref, seat.desk, req.body.sipCallId);
      return { ok: true, desk: seat.desk };
    },
  );

  app.post<{ Params: Static<typeof AlarmParams> }>(
    '/api/desk/alarms/:alarmId/release',
    { config: { roles }, schema: { tags: ['desk'], summary: 'let go of the desk\'s claim on an alarm (hung up without acknowledging)', params: AlarmParams } },
    async (req, reply) => {
      const seat = await hub.storage.desk.seatOf(req.session!.idSha256);
      if (!seat) return reply.status(409).send({ error: 'no desk held', statusCode: 409 });
      const row = await openAlarm(req.params.alarmId, reply);
      if (!row) return reply;
      return { ok: await svc.release(req.session!, seat.desk, row, 'hung up') };
    },
  );

  // ---- acknowledge and reset through the hub (the alarm contract's alarm.ack / alarm.reset) -----------

  for (const action of ['ack', 'reset'] as const) {
    app.post<{ Params: Static<typeof AlarmParams> }>(
      `/api/desk/alarms/:alarmId/${action}`,
      {
        config: { roles },
        schema: {
          tags: ['desk'],
          summary: `${action === 'ack' ? 'acknowledge' : 'reset'} an open alarm: the command alarm.${action} to its kiosk (by: hub:<user> from the session); answers with the kiosk's result`,
          params: AlarmParams,
          response: { 200: Outcome },
        },
      },
      async (req, reply) => {
        const row = await openAlarm(req.params.alarmId, reply);
        if (!row) return reply;
        const s = req.session!;
        // The hub's own alarms (supervision's "test overdue") have no kiosk alarm behind them: reset here.
        if (await hub.storage.supervision.isHubAlarm(row.ref)) {
          if (action === 'ack') return reply.status(409).send({ ok: false, error: 'a test-overdue alarm ends with a reset (or a passed test)' });
          const ok = (await hub.supervision?.resetOverdue(row.ref, `hub:${s.user}`)) ?? (await hub.storage.supervision.resetOverdue(row.ref, `hub:${s.user}`, 'reset by a dispatcher'));
          await hub.storage.desk.action({ kiosk: row.kiosk, alarmId: row.ref, user: s.user, desk: (await hub.storage.desk.seatOf(s.idSha256))?.desk ?? null, action: 'reset', detail: { via: 'hub', ok } });
          await hub.audit(req, 'supervision.overdue.reset', row.kiosk, ok ? 'ok' : 'already reset', { alarmId: row.ref });
          return reply.status(ok ? 200 : 409).send(ok ? { ok } : { ok, error: 'already reset' });
        }
        const r = await svc.command(s, ip(req), row.kiosk, `alarm.${action}`, { alarmId: row.ref, by: `hub:${s.user}` });
        const seat = await hub.storage.desk.seatOf(s.idSha256);
        await hub.storage.desk.action({ kiosk: row.kiosk, alarmId: row.ref, user: s.user, desk: seat?.desk ?? null, action: action === 'ack' ? 'acknowledge' : 'reset', detail: { via: 'hub', ok: r.ok, error: r.error } });
        return reply.status(r.ok ? 200 : r.pending ? 202 : 409).send(r);
      },
    );
  }

  // ---- a kiosk's history -----------------------------------------------------------------------------------

  const HistoryQuery = Type.Object({ from: Type.Optional(Type.String({ format: 'date-time' })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 2000 })) });
  app.get<{ Params: Static<typeof KioskParams>; Querystring: Static<typeof HistoryQuery> }>(
    '/api/desk/kiosks/:kiosk/history',
    { config: { roles: historyRoles }, schema: { tags: ['desk'], summary: 'a kiosk\'s history, newest first: alarms (who acknowledged and reset), calls with media statistics (loss, jitter), chat, screen information, door, dispatchers\' actions', params: KioskParams, querystring: HistoryQuery } },
    async (req, reply) => {
      if (!(await hub.storage.getKiosk(req.params.kiosk))) return reply.status(404).send({ error: `no kiosk ${req.params.kiosk}`, statusCode: 404 });
      return { kiosk: req.params.kiosk, entries: await kioskHistory(hub, req.params.kiosk, req.query) };
    },
  );

  app.get<{ Params: Static<typeof KioskParams> }>(
    '/desk/kiosks/:kiosk/history',
    { config: { roles: historyRoles }, schema: { tags: ['desk'], summary: 'a kiosk\'s history page', params: KioskParams, hide: true } },
    async (req, reply) => {
      if (!(await hub.storage.getKiosk(req.params.kiosk))) return reply.status(404).send({ error: `no kiosk ${req.params.kiosk}`, statusCode: 404 });
      void reply.type('text/html; charset=utf-8').header('x-frame-options', 'DENY').header('cache-control', 'no-store');
      return historyPage(hub.config.site.name.en, req.params.kiosk, await kioskHistory(hub, req.params.kiosk));
    },
  );

  // ---- calling a kiosk: call back, listen in ----------------------------------------------------------------

  const CallBody = Type.Object({ listen: Type.Optional(Type.Boolean({ description: 'listen in: the desk\'s microphone stays off (only where the site allows it: desk.listenIn)' })) }, { additionalProperties: false });
  app.post<{ Params: Static<typeof KioskParams>; Body: Static<typeof CallBody> }>(
    '/api/desk/kiosks/:kiosk/call',
    {
      config: { roles },
      schema: {
        tags: ['desk'],
        summary: 'where the desk\'s browser phone calls a kiosk back (or listens in): its SIP address; the kiosk answers by its own rules (auto-answered from a trusted desk). 403 for listen-in where the site does not allow it',
        params: KioskParams,
        body: CallBody,
      },
    },
    async (req, reply) => {
      const kiosk = req.params.kiosk;
      const listen = req.body?.listen === true;
      if (listen && !svc.cfg.listenIn) return reply.status(403).send({ error: 'this site does not allow listening in (hub config desk.listenIn)', statusCode: 403 });
      const seat = await hub.storage.desk.seatOf(req.session!.idSha256);
      if (!seat) return reply.status(409).send({ error: 'take a desk first', statusCode: 409 });
      const facts = await svc.kioskFacts(kiosk);
      if (!facts) return reply.status(404).send({ error: `no kiosk ${kiosk}`, statusCode: 404 });
      await hub.storage.desk.action({ kiosk, user: req.session!.user, desk: seat.desk, action: listen ? 'listen in' : 'call back', detail: { uri: facts.sipUri } });
      await hub.audit(req, listen ? 'desk.listen' : 'desk.callback', kiosk, 'ok');
      return { ok: true, uri: facts.sipUri, listen };
    },
  );

  // ---- listening to a call another desk answered (rtpengine subscribe) ----------------------------------------

  const refuse = async (req: FastifyRequest, reply: FastifyReply, target: string, err: unknown) => {
    if (!(err instanceof ListenInError)) throw err;
    await hub.audit(req, 'desk.listen.start', target, 'refused', { error: err.message });
    hub.log.warn({ target, user: req.session!.user, reason: err.message }, 'listen-in refused');
    return reply.status(err.status).send({ error: err.message, statusCode: err.status });
  };

  app.post<{ Params: Static<typeof AlarmParams> }>(
    '/api/desk/alarms/:alarmId/listen',
    {
      config: { roles: listenRoles },
      schema: {
        tags: ['desk'],
        summary:
          'listen to the call of an alarm that another desk answered: an SDP offer (WebRTC, send-only: the kiosk\'s audio, then the answering desk\'s) for the browser; 403 without desk.listenIn or for a role other than admin, 409 when no desk is talking on it, 503/502 when rtpengine is unreachable or refuses',
        params: AlarmParams,
        // Nothing: the call is the one the answering desk reported, never one named by the listener.
        body: Type.Object({}, { additionalProperties: false }),
      },
    },
    async (req, reply) => {
      const mySeat = (await hub.storage.desk.seatOf(req.session!.idSha256))?.desk ?? null;
      try {
        return { ok: true, ...(await listenIn.offer(req.session!, req.ip, req.params.alarmId, mySeat)) };
      } catch (err) {
        return refuse(req, reply, req.params.alarmId, err);
      }
    },
  );

  app.post<{ Params: Static<typeof ListenParams>; Body: Static<typeof ListenAnswer> }>(
    '/api/desk/listen/:id/answer',
    { config: { roles: listenRoles }, schema: { tags: ['desk'], summary: 'the browser\'s SDP answer (recvonly) to a listen-in offer: ok once rtpengine took it and the media flows', params: ListenParams, body: ListenAnswer } },
    async (req, reply) => {
      const mySeat = (await hub.storage.desk.seatOf(req.session!.idSha256))?.desk ?? null;
      try {
        const l = await listenIn.answer(req.session!, req.params.id, req.body.sdp, mySeat);
        return { ok: true, alarmId: l.alarmId, kiosk: l.kiosk };
      } catch (err) {
        return refuse(req, reply, req.params.id, err);
      }
    },
  );

  app.post<{ Params: Static<typeof ListenParams> }>(
    '/api/desk/listen/:id/stop',
    { config: { roles: listenRoles }, schema: { tags: ['desk'], summary: 'stop listening (rtpengine unsubscribe)', params: ListenParams } },
    async (req, reply) => {
      try {
        return { ok: true, ...(await listenIn.stop(req.session!, req.params.id)) };
      } catch (err) {
        if (!(err instanceof ListenInError)) throw err;
        return reply.status(err.status).send({ error: err.message, statusCode: err.status });
      }
    },
  );

  // ---- the kiosk: door, chat, desk information -----------------------------------------------------------

  const InfoBody = Type.Object(
    {
      etaMin: Type.Optional(Type.Integer({ minimum: 0, maximum: 600, description: 'minutes until help arrives' })),
      responder: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'who is coming (name or team)' })),
      callId: Type.Optional(Type.String({ maxLength: 128 })),
    },
    { additionalProperties: false },
  );
  app.post<{ Params: Static<typeof KioskParams>; Body: Static<typeof InfoBody> }>(
    '/api/desk/kiosks/:kiosk/info',
    { config: { roles }, schema: { tags: ['desk'], summary: 'the ETA and the responder\'s name on the caller\'s screen (desk.info); answers with the kiosk\'s result', params: KioskParams, body: InfoBody, response: { 200: Outcome } } },
    async (req, reply) => {
      const kiosk = req.params.kiosk;
      if (!(await hub.storage.getKiosk(kiosk))) return reply.status(404).send({ error: `no kiosk ${kiosk}`, statusCode: 404 });
      const b = req.body ?? {};
      if (b.etaMin === undefined && !b.responder) return reply.status(400).send({ error: 'send "etaMin", "responder" or both', statusCode: 400 });
      const r = await svc.command(req.session!, ip(req), kiosk, 'desk.info', { ...b });
      const seat = await hub.storage.desk.seatOf(req.session!.idSha256);
      await hub.storage.desk.action({ kiosk, user: req.session!.user, desk: seat?.desk ?? null, action: 'eta', detail: { ...b, ok: r.ok, error: r.error } });
      return reply.status(r.ok ? 200 : r.pending ? 202 : 409).send(r);
    },
  );

  app.post<{ Params: Static<typeof KioskParams> }>(
    '/api/desk/kiosks/:kiosk/door',
    { config: { roles }, schema: { tags: ['desk'], summary: 'open the kiosk\'s door: a pulse of its door relay (relay.pulse); answers with the kiosk\'s result', params: KioskParams, response: { 200: Outcome } } },
    async (req, reply) => {
      if (!(await hub.storage.getKiosk(req.params.kiosk))) return reply.status(404).send({ error: `no kiosk ${req.params.kiosk}`, statusCode: 404 });
      const r = await svc.command(req.session!, ip(req), req.params.kiosk, 'relay.pulse', {});
      const seat = await hub.storage.desk.seatOf(req.session!.idSha256);
      await hub.storage.desk.action({ kiosk: req.params.kiosk, user: req.session!.user, desk: seat?.desk ?? null, action: 'open door', detail: { ok: r.ok, error: r.error } });
      return reply.status(r.ok ? 200 : r.pending ? 202 : 409).send(r);
    },
  );

  app.post<{ Params: Static<typeof KioskParams>; Body: Static<typeof ChatBody> }>(
    '/api/desk/kiosks/:kiosk/chat',
    {
      config: { roles },
      schema: { tags: ['desk'], summary: 'a chat line to the caller\'s screen: text as typed, or a quick reply by id in the language the screen shows', params: KioskParams, body: ChatBody, response: { 200: Outcome } },
    },
    async (req, reply) => {
      const kiosk = req.params.kiosk;
      if (!(await hub.storage.getKiosk(kiosk))) return reply.status(404).send({ error: `no kiosk ${kiosk}`, statusCode: 404 });
      const b = req.body;
      if (!!b.text === !!b.reply) return reply.status(400).send({ error: 'send "text" or a quick "reply" id (one of them)', statusCode: 400 });
      let text = b.text;
      let lang: string | null = null;
      if (b.reply) {
        const q = svc.cfg.quickReplies!.find((r) => r.id === b.reply);
        if (!q) return reply.status(400).send({ error: `no quick reply "${b.reply}" (known: ${svc.cfg.quickReplies!.map((r) => r.id).join(', ')})`, statusCode: 400 });
        lang = (await hub.storage.desk.language(kiosk)) ?? (await svc.kioskFacts(kiosk))?.defaultLanguage ?? 'en';
        text = (q.text as Record<string, string | undefined>)[lang] ?? q.text.en;
      }
      const r = await svc.command(req.session!, ip(req), kiosk, 'chat', { text: text!, ...(b.callId ? { callId: b.callId } : {}) });
      if (r.ok) await svc.publish('chat', { kiosk, from: 'desk', user: req.session!.user, text, lang, at: new Date().toISOString() });
      return reply.status(r.ok ? 200 : r.pending ? 202 : 409).send({ ...r, text, lang });
    },
  );
}
