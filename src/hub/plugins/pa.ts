// The PA console's API and pages: live pages from the browser (through the
// hub's page gateway), the message library (drafts, audio uploaded or
// synthesised, approval by a second user with the pa.approve right), plays
// now / at a time / repeated and their cancellation, PA actions with their
// per-kiosk receipts, and a server-sent event stream that keeps consoles
// live. Incidents and drills: plugins/incidents.ts, on the same engine.
import { existsSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import { Type, type Static } from '@sinclair/typebox';
import { PaHub, newId } from '../pa/service.js';
import { LivePages } from '../pa/gateway.js';
import { composeClip, synthesise, type Lang } from '../pa/audio.js';
import { WEB_DIST } from '../web-bundle.js';
import { paPage } from '../pa/pages.js';
import { ALL_ROLES } from './auth.js';
import incidentRoutes from './incidents.js';
import type { MessageRow } from '../storage/pa.js';

const DISPATCH: ['dispatcher', 'admin'] = ['dispatcher', 'admin'];
const MAX_AUDIO = 20 * 1024 * 1024;
const LocalText = Type.Object({ en: Type.String({ minLength: 1, maxLength: 2000 }), 'zh-CN': Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })) }, { additionalProperties: false });
const IdParam = Type.Object({ id: Type.String({ pattern: '^[a-z0-9][a-z0-9_.-]{0,127}$' }) });
const Zones = Type.Array(Type.String({ maxLength: 64 }), { maxItems: 200 });
const LangParam = Type.Union([Type.Literal('en'), Type.Literal('zh-CN')]);

export default async function pa(app: FastifyInstance) {
  const { hub } = app;
  const engine = new PaHub(hub);
  await engine.start();
  if (engine.cfg.gateway) {
    engine.gateway = new LivePages(engine, engine.cfg, hub.log.child({ area: 'page-gateway' }));
    // Registration with the SIP server goes on in the background: the hub does not wait for it.
    void engine.gateway.start();
  }
  // Live feeds end before the server closes (it waits for open connections); the rest after.
  app.addHook('preClose', async () => engine.endFeeds());
  app.addHook('onClose', async () => {
    await engine.gateway?.stop();
    await engine.stop();
  });
  app.decorate('pa', engine);

  // The browser bundles (dist/web, built by scripts/setup.sh): no data in them, public like /static/.
  app.addHook('onRoute', (r) => {
    if (r.url.startsWith('/static/app/')) r.config = { ...(r.config as object), public: true };
  });
  if (existsSync(WEB_DIST)) await app.register(fastifyStatic, { root: WEB_DIST, prefix: '/static/app/', index: false, list: false, dotfiles: 'deny', decorateReply: false });
  else hub.log.warn({ dir: WEB_DIST }, 'console bundles not built (npm run build): the PA pages cannot load their script');

  const page = (which: 'pa' | 'incidents') => async (req: FastifyRequest, reply: FastifyReply) => {
    if (!req.session) return reply.redirect('/', 303);
    void reply.type('text/html; charset=utf-8').header('x-frame-options', 'DENY').header('cache-control', 'no-store');
    return paPage(which, hub.config.site.name.en, req.session);
  };
  app.get('/pa', { config: { public: true }, schema: { tags: ['pa'], summary: 'the PA console page', hide: true } }, page('pa'));
  app.get('/incidents', { config: { public: true }, schema: { tags: ['incidents'], summary: 'the incidents and drills page', hide: true } }, page('incidents'));

  // ---- what a console needs to know --------------------------------------------------

  app.get(
    '/api/pa/config',
    { config: { roles: ALL_ROLES }, schema: { tags: ['pa'], summary: 'zones, levels, languages, the live-page gateway and (dispatchers only) the SIP account of the console' } },
    async (req) => {
      const dispatcher = DISPATCH.includes(req.session!.role as never);
      const zones = hub.config.site.zones.map((z) => ({ id: z.id, name: z.name, paging: !!engine.cfg.zones[z.id] }));
      return {
        zones,
        levels: engine.cfg.levels,
        languages: engine.cfg.languages,
        gateway: engine.gateway ? { target: engine.gateway.target, ready: engine.gateway.ready, error: engine.gateway.lastError ?? null } : null,
        // where the console's browser phone registers; the dispatcher enters the account's password in the browser (the hub never holds it)
        browser: dispatcher && engine.cfg.browser ? engine.cfg.browser : null,
        rights: req.session!.rights,
        user: req.session!.user,
        map: hub.config.site.map ? { width: hub.config.site.map.width, height: hub.config.site.map.height } : null,
      };
    },
  );

  // ---- live pages ---------------------------------------------------------------------

  const Live = Type.Object({ zones: Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: 200 }), emergency: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
  app.post<{ Body: Static<typeof Live> }>(
    '/api/pa/live',
    {
      config: { roles: DISPATCH },
      schema: {
        tags: ['pa'],
        summary: 'start a live page: the console then calls the gateway with the returned token (X-Helppoint-Page) within 30 s',
        body: Live,
        response: { 201: Type.Object({ id: Type.String(), token: Type.String(), target: Type.String(), chimeMs: Type.Number(), header: Type.String() }) },
      },
    },
    async (req, reply) => {
      const g = engine.gateway;
      if (!g) return reply.status(503).send({ error: 'no page gateway configured (pa.gateway in the hub config)', statusCode: 503 });
      if (!g.ready) return reply.status(503).send({ error: `the page gateway cannot take calls: ${g.lastError ?? 'not registered'}`, statusCode: 503 });
      const zones = [...new Set(req.body.zones)];
      const missing = zones.filter((z) => !engine.cfg.zones[z]);
      if (missing.length) return reply.status(400).send({ error: `no page group for zone(s) ${missing.join(', ')} (pa.zones in the hub config)`, statusCode: 400 });
      const r = g.open({ zones, emergency: !!req.body.emergency, by: req.session!.user, role: req.session!.role });
      await hub.audit(req, 'pa.live', zones.join(','), 'ok', { id: r.id, emergency: !!req.body.emergency });
      return reply.status(201).send({ ...r, header: 'X-Helppoint-Page' });
    },
  );

  app.get('/api/pa/live', { config: { roles: ALL_ROLES }, schema: { tags: ['pa'], summary: 'live pages on air on this hub instance' } }, async () => engine.gateway?.list() ?? []);

  // ---- message library ---------------------------------------------------------------

  app.get('/api/pa/messages', { config: { roles: ALL_ROLES }, schema: { tags: ['pa'], summary: 'every message: its newest version and its approved version' } }, async () =>
    hub.storage.pa.listMessages(),
  );

  app.get<{ Params: Static<typeof IdParam>; Querystring: { version?: number } }>(
    '/api/pa/messages/:id',
    { config: { roles: ALL_ROLES }, schema: { tags: ['pa'], summary: 'a message (newest version, or the one asked for)', params: IdParam, querystring: Type.Object({ version: Type.Optional(Type.Integer({ minimum: 1 })) }) } },
    async (req, reply) => (await hub.storage.pa.getMessage(req.params.id, req.query.version)) ?? reply.status(404).send({ error: 'no such message', statusCode: 404 }),
  );

  const NewMessage = Type.Object(
    { id: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' })), name: Type.String({ minLength: 1, maxLength: 200 }), text: LocalText, level: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])) },
    { additionalProperties: false },
  );
  app.post<{ Body: Static<typeof NewMessage> }>(
    '/api/pa/messages',
    { config: { roles: DISPATCH }, schema: { tags: ['pa'], summary: 'draft a new message (text in both languages); add audio, then a second user approves it', body: NewMessage } },
    async (req, reply) => {
      const b = req.body;
      if (b.level && !engine.incidents.level(b.level)) return reply.status(400).send({ error: `unknown level "${b.level}"`, statusCode: 400 });
      const id = b.id ?? newId('msg');
      const row = await hub.storage.pa.createMessage({ id, name: b.name, text: b.text, level: b.level ?? null, by: req.session!.user });
      await hub.audit(req, 'pa.message.draft', id, row ? 'ok' : 'refused: exists');
      if (!row) return reply.status(409).send({ error: `message ${id} exists: change it instead`, statusCode: 409 });
      await hub.bus.publish({ t: 'pa', ev: 'message', id });
      return reply.status(201).send(row);
    },
  );

  const Edit = Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), text: Type.Optional(LocalText), level: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])) }, { additionalProperties: false });
  app.post<{ Params: Static<typeof IdParam>; Body: Static<typeof Edit> }>(
    '/api/pa/messages/:id',
    { config: { roles: DISPATCH }, schema: { tags: ['pa'], summary: 'change a message: a draft in place, an approved one as a new draft version', params: IdParam, body: Edit } },
    async (req, reply) => {
      if (req.body.level && !engine.incidents.level(req.body.level)) return reply.status(400).send({ error: `unknown level "${req.body.level}"`, statusCode: 400 });
      const row = await hub.storage.pa.editMessage(req.params.id, req.body, req.session!.user);
      await hub.audit(req, 'pa.message.edit', req.params.id, row ? `ok: v${row.version}` : 'refused: unknown');
      if (!row) return reply.status(404).send({ error: 'no such message', statusCode: 404 });
      await hub.bus.publish({ t: 'pa', ev: 'message', id: row.id });
      return row;
    },
  );

  /** After audio changed: once every language has audio, the kiosks' clip is composed. */
  async function compose(m: MessageRow): Promise<MessageRow> {
    const langs = engine.cfg.languages as Lang[];
    if (!langs.every((l) => m.audio[l])) return m;
    const parts = langs.map((l) => hub.clips.get(m.audio[l]!.sha256));
    if (parts.some((p) => !p)) throw new Error('a language clip is missing from the clip store');
    const clip = await composeClip(parts as Buffer[]);
    const stored = await hub.clips.add(clip.wav);
    await hub.storage.pa.setMessageClip(m.id, m.version, { sha256: stored.sha256, seconds: clip.seconds });
    return (await hub.storage.pa.getMessage(m.id, m.version))!;
  }

  async function draftOf(id: string, reply: FastifyReply): Promise<MessageRow | undefined> {
    const m = await hub.storage.pa.getMessage(id);
    if (!m) {
      void reply.status(404).send({ error: 'no such message', statusCode: 404 });
      return undefined;
    }
    if (m.state !== 'draft') {
      void reply.status(409).send({ error: `version ${m.version} is ${m.state}: change the text first to make a new draft`, statusCode: 409 });
      return undefined;
    }
    return m;
  }

  const Synth = Type.Object({ languages: Type.Optional(Type.Array(LangParam, { minItems: 1, maxItems: 2 })) }, { additionalProperties: false });
  app.post<{ Params: Static<typeof IdParam>; Body: Static<typeof Synth> }>(
    '/api/pa/messages/:id/synthesise',
    { config: { roles: DISPATCH }, schema: { tags: ['pa'], summary: 'speak the draft\'s text with espeak-ng at the hub (marked synthetic)', params: IdParam, body: Synth } },
    async (req, reply) => {
      const m = await draftOf(req.params.id, reply);
      if (!m) return reply;
      let row: MessageRow | undefined = m;
      try {
        for (const lang of req.body.languages ?? (engine.cfg.languages as Lang[])) {
          const text = lang === 'en' ? m.text.en : m.text['zh-CN'];
          if (!text) return reply.status(400).send({ error: `the message has no ${lang} text`, statusCode: 400 });
          const stored = await hub.clips.add(await synthesise(text, lang));
          row = await hub.storage.pa.setMessageAudio(m.id, m.version, lang, { sha256: stored.sha256, seconds: stored.seconds, synthetic: true }, req.session!.user);
          if (!row) return reply.status(409).send({ error: 'the draft changed meanwhile', statusCode: 409 });
        }
        row = await compose(row);
      } catch (err) {
        await hub.audit(req, 'pa.message.synthesise', m.id, `failed: ${(err as Error).message}`);
        return reply.status(500).send({ error: (err as Error).message, statusCode: 500 });
      }
      await hub.audit(req, 'pa.message.synthesise', m.id, 'ok', { version: m.version });
      await hub.bus.publish({ t: 'pa', ev: 'message', id: m.id });
      return row;
    },
  );

  // Uploaded audio: raw WAV bytes as the body, in a scope of its own (the rest of the API takes JSON).
  await app.register(async (raw) => {
    raw.removeAllContentTypeParsers();
    raw.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_AUDIO }, (_req, body, done) => done(null, body));
    raw.post<{ Params: Static<typeof IdParam> & { lang: Lang }; Body: Buffer }>(
      '/api/pa/messages/:id/audio/:lang',
      {
        config: { roles: DISPATCH },
        bodyLimit: MAX_AUDIO,
        schema: { tags: ['pa'], summary: 'upload the recording of one language (WAV bytes as the body)', params: Type.Composite([IdParam, Type.Object({ lang: LangParam })]) },
      },
      async (req, reply) => {
        const m = await draftOf(req.params.id, reply);
        if (!m) return reply;
        if (!Buffer.isBuffer(req.body)) return reply.status(400).send({ error: 'send the WAV bytes as the body', statusCode: 400 });
        let row: MessageRow | undefined;
        try {
          const stored = await hub.clips.add(req.body);
          row = await hub.storage.pa.setMessageAudio(m.id, m.version, req.params.lang, { sha256: stored.sha256, seconds: stored.seconds, synthetic: false }, req.session!.user);
          if (!row) return reply.status(409).send({ error: 'the draft changed meanwhile', statusCode: 409 });
          row = await compose(row);
        } catch (err) {
          await hub.audit(req, 'pa.message.audio', m.id, `refused: ${(err as Error).message}`);
          return reply.status(400).send({ error: (err as Error).message, statusCode: 400 });
        }
        await hub.audit(req, 'pa.message.audio', m.id, 'ok', { lang: req.params.lang, version: m.version });
        await hub.bus.publish({ t: 'pa', ev: 'message', id: m.id });
        return row;
      },
    );
  });

  const Approve = Type.Object({ version: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });
  app.post<{ Params: Static<typeof IdParam>; Body: Static<typeof Approve> }>(
    '/api/pa/messages/:id/approve',
    {
      config: { roles: DISPATCH, rights: ['pa.approve'] },
      schema: { tags: ['pa'], summary: 'approve a draft (a second user with the pa.approve right, never its author): it becomes the wording that plays', params: IdParam, body: Approve },
    },
    async (req, reply) => {
      const r = await hub.storage.pa.approveMessage(req.params.id, req.body.version, req.session!.user);
      await hub.audit(req, 'pa.message.approve', `${req.params.id}@${req.body.version}`, r.ok ? 'ok' : `refused: ${r.error}`);
      if (!r.ok) return reply.status(r.status).send({ error: r.error, statusCode: r.status });
      await hub.bus.publish({ t: 'pa', ev: 'message', id: req.params.id });
      return r.row;
    },
  );

  app.post<{ Params: Static<typeof IdParam> }>(
    '/api/pa/messages/:id/retire',
    { config: { roles: DISPATCH, rights: ['pa.approve'] }, schema: { tags: ['pa'], summary: 'retire a message: it can no longer be played', params: IdParam } },
    async (req, reply) => {
      const n = await hub.storage.pa.retireMessage(req.params.id);
      await hub.audit(req, 'pa.message.retire', req.params.id, n ? 'ok' : 'refused: unknown');
      if (!n) return reply.status(404).send({ error: 'no such message (or retired already)', statusCode: 404 });
      await hub.bus.publish({ t: 'pa', ev: 'message', id: req.params.id });
      return { retired: n };
    },
  );

  // ---- plays: now, at a time, repeated; cancel ------------------------------------------------

  const Play = Type.Object(
    {
      message: Type.String({ maxLength: 128 }),
      zones: Type.Optional(Zones),
      kiosks: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20000 })),
      channel: Type.Optional(Type.Union([Type.Literal('announcement'), Type.Literal('emergency'), Type.Literal('page')])),
      at: Type.Optional(Type.String({ format: 'date-time', description: 'first time it plays; absent: now' })),
      everyS: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 86400, description: 'repeat this often (seconds)' })),
      times: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, description: 'how many times in all (with everyS); absent: until cancelled' })),
      drill: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  );
  app.post<{ Body: Static<typeof Play> }>(
    '/api/pa/plays',
    { config: { roles: DISPATCH }, schema: { tags: ['pa'], summary: 'play an approved message to zones or kiosks: now, at a time, or repeated', body: Play } },
    async (req, reply) => {
      const b = req.body;
      if (!b.zones?.length && !b.kiosks?.length) return reply.status(400).send({ error: 'name "zones" or "kiosks"', statusCode: 400 });
      if (b.at && Date.parse(b.at) > Date.now() + 366 * 86400_000) return reply.status(400).send({ error: '"at" is more than a year away', statusCode: 400 });
      const r = await engine.play({ messageId: b.message, zones: b.zones ?? [], kiosks: b.kiosks, channel: b.channel, at: b.at, everyS: b.everyS, times: b.times, drill: b.drill, by: req.session!.user, role: req.session!.role });
      await hub.audit(req, 'pa.play', b.message, r.ok ? 'ok' : `refused: ${r.error}`, { zones: b.zones, kiosks: b.kiosks?.length, at: b.at, everyS: b.everyS, times: b.times, play: r.ok ? r.play.id : undefined });
      if (!r.ok) return reply.status(r.status).send({ error: r.error, statusCode: r.status });
      return reply.status(201).send(r.play);
    },
  );

  app.get<{ Querystring: { active?: boolean } }>(
    '/api/pa/plays',
    { config: { roles: ALL_ROLES }, schema: { tags: ['pa'], summary: 'plays, newest first (active: scheduled ones only)', querystring: Type.Object({ active: Type.Optional(Type.Boolean()) }) } },
    async (req) => hub.storage.pa.listPlays({ active: req.query.active }),
  );

  app.post<{ Params: Static<typeof IdParam> }>(
    '/api/pa/plays/:id/cancel',
    { config: { roles: DISPATCH }, schema: { tags: ['pa'], summary: 'cancel a play: nothing more is sent, what plays now stops', params: IdParam } },
    async (req, reply) => {
      const p = await engine.cancel(req.params.id, req.session!.user, req.session!.role);
      await hub.audit(req, 'pa.play.cancel', req.params.id, p ? 'ok' : 'refused: unknown or cancelled');
      if (!p) return reply.status(404).send({ error: 'no such play (or cancelled already)', statusCode: 404 });
      return p;
    },
  );

  // ---- actions and receipts --------------------------------------------------------------

  app.get<{ Querystring: { limit?: number; incident?: string } }>(
    '/api/pa/actions',
    {
      config: { roles: ALL_ROLES },
      schema: { tags: ['pa'], summary: 'PA actions (messages played, live pages), newest first, with receipt counts', querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })), incident: Type.Optional(Type.String({ maxLength: 128 })) }) },
    },
    async (req) => {
      const list = await hub.storage.pa.listActions({ limit: req.query.limit ?? 50, incident: req.query.incident });
      const counts = await hub.storage.pa.counts(list.map((a) => a.id));
      return list.map((a) => ({ ...a, counts: counts.get(a.id) }));
    },
  );

  app.get<{ Params: Static<typeof IdParam> }>(
    '/api/pa/actions/:id',
    { config: { roles: ALL_ROLES }, schema: { tags: ['pa'], summary: 'a PA action with the receipt of every kiosk', params: IdParam } },
    async (req, reply) => (await engine.actionReport(req.params.id)) ?? reply.status(404).send({ error: 'no such action', statusCode: 404 }),
  );

  // ---- live feed for consoles (server-sent events) ------------------------------------------

  app.get(
    '/api/pa/stream',
    { config: { roles: ALL_ROLES }, schema: { tags: ['pa'], summary: 'server-sent events: receipts (counts and changed receipts), page, action, play, message, incident' } },
    (req, reply) => {
      // A stream only for clients that ask for one (EventSource does); anything else gets a short answer.
      if (!/text\/event-stream/.test(String(req.headers.accept ?? ''))) return reply.status(406).send({ error: 'a server-sent event stream: ask with Accept: text/event-stream', statusCode: 406 });
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write('retry: 2000\n: live\n\n');
      const off = engine.subscribe((event, data) => {
        if (event === 'bye') return void res.end();
        res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      });
      // A revoked or expired session loses its feed at the next check.
      const idSha256 = req.session!.idSha256;
      const check = setInterval(() => {
        void hub.storage.getSession(idSha256).then(
          (s) => (s ? res.write(': ping\n\n') : res.end()),
          () => undefined,
        );
      }, 15_000);
      const done = () => {
        off();
        clearInterval(check);
      };
      res.on('close', done);
      res.on('error', done);
    },
  );

  await app.register(incidentRoutes, { engine });
}

declare module 'fastify' {
  interface FastifyInstance {
    pa?: PaHub;
  }
}
