// The facilities console: config layers with the source of every value, a
// schema-driven editor (validated at the hub with the CLI's rules, a diff
// against what the kiosks run, then a staged rollout), one-click rollback of
// any layer to any version, enrolment, and the fleet on the site's floor plan
// with live updates. Facilities and admin change things; dispatchers look.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';
import { Type, type Static } from '@sinclair/typebox';
import { stripSecrets } from '../../config/secrets.js';
import { Location } from '../../config/schema/site.js';
import { newToken, sha256Hex } from '../passwords.js';
import { WEB_DIST } from '../web-bundle.js';
import { diff, type Change } from '../facilities/compose.js';
import { layerSchema, NOT_IN_LAYERS, publishedKioskSchema, withoutSecretFields } from '../facilities/layer-schema.js';
import { RolloutError } from '../facilities/rollouts.js';
import { editorPage, fleetMapPage } from '../facilities/pages.js';
import { LAYER_SCOPES, type LayerScope } from '../storage/storage.js';
import { ALL_ROLES } from './auth.js';

const EDIT = ['facilities', 'admin'] as const;
const Scope = Type.Union(LAYER_SCOPES.map((s) => Type.Literal(s)));
const Doc = Type.Record(Type.String(), Type.Unknown());
const Canary = Type.Union([
  Type.Null(),
  Type.Object({ kiosks: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 1000 })), percent: Type.Optional(Type.Number({ minimum: 1, maximum: 100 })) }, { additionalProperties: false }),
]);
const LayerBody = Type.Object(
  { scope: Scope, target: Type.Optional(Type.String({ maxLength: 64 })), document: Doc, comment: Type.Optional(Type.String({ maxLength: 500 })), canary: Type.Optional(Canary) },
  { additionalProperties: false },
);
type LayerBody = Static<typeof LayerBody>;
const IdParams = Type.Object({ id: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' }) });
const LayerParams = Type.Object({ scope: Scope, target: Type.String({ maxLength: 64 }) });

/** "-" names the single defaults and site layers in URLs. */
const targetOf = (scope: LayerScope, t: string | undefined) => (scope === 'defaults' || scope === 'site' ? '' : t && t !== '-' ? t : '');

export default async function facilities(app: FastifyInstance) {
  const { hub } = app;
  const f = hub.facilities;
  const site = hub.config.site;
  const published = publishedKioskSchema();
  const forLayers = layerSchema(published);

  // The console's bundles (dist/web/facilities, built by scripts/setup.sh): no data in them, public like /static/.
  app.addHook('onRoute', (r) => {
    if (r.url.startsWith('/static/facilities/')) r.config = { ...(r.config as object), public: true };
  });
  const bundles = path.join(WEB_DIST, 'facilities');
  if (existsSync(bundles)) await app.register(fastifyStatic, { root: bundles, prefix: '/static/facilities/', index: false, list: false, dotfiles: 'deny', decorateReply: false });
  else hub.log.warn({ dir: bundles }, 'facilities console bundles not built (npm run build)');

  app.addHook('preClose', async () => f.feed.stop());

  const html = (reply: FastifyReply, body: string) => reply.type('text/html; charset=utf-8').header('x-frame-options', 'DENY').header('cache-control', 'no-store').send(body);

  // ---- pages ---------------------------------------------------------------------------

  app.get('/facilities', { config: { roles: ALL_ROLES }, schema: { tags: ['facilities'], summary: 'the fleet map and list, rollouts and enrolment (page)', hide: true } }, async (req, reply) =>
    html(reply, fleetMapPage(site.name.en, req.session!)),
  );
  app.get('/facilities/editor', { config: { roles: [...EDIT] }, schema: { tags: ['facilities'], summary: 'the config layer editor (page)', hide: true } }, async (req, reply) =>
    html(reply, editorPage(site.name.en, req.session!)),
  );

  // ---- the fleet -------------------------------------------------------------------------

  app.get<{ Querystring: { zone?: string } }>(
    '/api/facilities/fleet',
    { config: { roles: ALL_ROLES }, schema: { tags: ['facilities'], summary: 'every kiosk with its map state, firmware, config version, uptime, faults, last alarm and last test call', querystring: Type.Object({ zone: Type.Optional(Type.String({ maxLength: 64 })) }) } },
    async (req) => ({
      site: { id: site.id, name: site.name, zones: site.zones.map((z) => ({ id: z.id, name: z.name })), map: site.map ? { width: site.map.width, height: site.map.height, floorplan: !!floorplanFile() } : null },
      kiosks: await f.feed.entries(undefined, req.query.zone),
    }),
  );

  app.get<{ Querystring: { zone?: string } }>(
    '/api/facilities/stream',
    { config: { roles: ALL_ROLES }, schema: { tags: ['facilities'], summary: 'server-sent events: "kiosks" (changed kiosks, as in the fleet list) and "rollout" (a rollout moved on)', querystring: Type.Object({ zone: Type.Optional(Type.String({ maxLength: 64 })) }) } },
    (req, reply) => {
      // A stream only for clients that ask for one (EventSource does); anything else gets a short answer.
      if (!/text\/event-stream/.test(String(req.headers.accept ?? ''))) return reply.status(406).send({ error: 'a server-sent event stream: ask with Accept: text/event-stream', statusCode: 406 });
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write('retry: 2000\n: live\n\n');
      const off = f.feed.subscribe((event, data) => {
        if (event === 'bye') return void res.end();
        res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      }, req.query.zone || undefined);
      // A revoked or expired session loses its stream at the next check.
      const idSha256 = req.session!.idSha256;
      const check = setInterval(() => void hub.storage.getSession(idSha256).then((s) => (s ? res.write(': ping\n\n') : res.end()), () => undefined), 15_000);
      const done = () => {
        off();
        clearInterval(check);
      };
      res.on('close', done);
      res.on('error', done);
    },
  );

  /** The site's floor plan: the path in the site is relative to the kiosk files that use the site (else to the hub config). */
  function floorplanFile(): string | undefined {
    const rel = site.map?.floorplan;
    if (!rel) return undefined;
    const dirs = new Set<string>();
    for (const k of hub.config.kiosks) if (k.config) dirs.add(path.dirname(path.resolve(hub.configDir, k.config)));
    dirs.add(hub.configDir);
    for (const d of dirs) {
      const p = path.resolve(d, rel);
      if (p.endsWith('.svg') && existsSync(p)) return p;
    }
    return undefined;
  }

  app.get('/api/facilities/floorplan', { config: { roles: ALL_ROLES }, schema: { tags: ['facilities'], summary: "the site's floor plan (SVG)" } }, async (_req, reply) => {
    const file = floorplanFile();
    if (!file) return reply.status(404).send({ error: 'the site has no floor plan', statusCode: 404 });
    // Shown as an image: scripts in it never run, and it may not load anything.
    return reply.type('image/svg+xml').header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'").header('cache-control', 'no-cache').send(readFileSync(file));
  });

  // ---- layers --------------------------------------------------------------------------

  // Secret fields are left out of both: no layer carries them (the hub strips them; each kiosk keeps its own).
  const servedSchemas = { published: withoutSecretFields(published), layer: withoutSecretFields(forLayers) };
  app.get('/api/facilities/schema', { config: { roles: ALL_ROLES }, schema: { tags: ['facilities'], summary: 'the published kiosk schema and the layer schema the editor is generated from, both without secret fields (token, password: they stay on each kiosk)' } }, async () => servedSchemas);

  app.get<{ Querystring: { scope?: LayerScope; target?: string } }>(
    '/api/facilities/layers',
    { config: { roles: ALL_ROLES }, schema: { tags: ['facilities'], summary: 'every version of every layer, newest first, with its state (released, staged, abandoned)', querystring: Type.Object({ scope: Type.Optional(Scope), target: Type.Optional(Type.String({ maxLength: 64 })) }) } },
    async (req) => {
      const versions = await hub.storage.facilities.layerVersions(req.query.scope, req.query.scope ? targetOf(req.query.scope, req.query.target) : req.query.target);
      const current = await hub.storage.currentLayers();
      return versions.map((v) => ({ ...v, current: current.get(`${v.scope}/${v.target}`) === v.version }));
    },
  );

  app.get<{ Params: Static<typeof LayerParams>; Querystring: { version?: number } }>(
    '/api/facilities/layers/:scope/:target',
    { config: { roles: ALL_ROLES }, schema: { tags: ['facilities'], summary: 'one layer: its current document (or ?version=N), target "-" for defaults and site', params: LayerParams, querystring: Type.Object({ version: Type.Optional(Type.Integer({ minimum: 1 })) }) } },
    async (req) => {
      const target = targetOf(req.params.scope, req.params.target);
      const l = await hub.storage.getLayer(req.params.scope, target, req.query.version);
      return { scope: req.params.scope, target, ...(l ?? { version: 0, document: {}, author: '', comment: '', createdAt: '' }) };
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/api/facilities/kiosks/:id/effective',
    { config: { roles: ALL_ROLES }, schema: { tags: ['facilities'], summary: "a kiosk's effective config now (secrets removed) with the source of every value: file, a layer (scope:target@version) or default", params: IdParams } },
    async (req, reply) => {
      const k = await hub.storage.getKiosk(req.params.id);
      if (!k) return reply.status(404).send({ error: 'unknown kiosk', statusCode: 404 });
      const ref = (await f.rollouts.currentRefs([k])).get(k.id)!;
      const e = await f.composer.effective(k, ref);
      if (!e) return reply.status(409).send({ error: 'no base config file for this kiosk', statusCode: 409 });
      const running = (await hub.storage.facilities.runningConfigs([k.id])).get(k.id);
      return { kiosk: k.id, zone: k.zone, layers: ref, runningVersion: running?.version ?? null, ...e };
    },
  );

  /** Problems with a layer document as such (before composing it). */
  function layerProblems(b: LayerBody): { path: string; message: string }[] {
    const out: { path: string; message: string }[] = [];
    for (const k of NOT_IN_LAYERS) if (k in b.document) out.push({ path: `/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, message: 'is set by the kiosk or the hub, not by a layer' });
    if ((b.scope === 'zone' || b.scope === 'kiosk') && !b.target) out.push({ path: '', message: `"target" names the ${b.scope}` });
    return out;
  }

  app.post<{ Body: LayerBody }>(
    '/api/facilities/preview',
    { config: { roles: [...EDIT] }, bodyLimit: 256 * 1024, schema: { tags: ['facilities'], summary: 'validates a layer document for every kiosk under it (the rules of `helppoint config validate`) and shows what would change against what each kiosk runs; stores and pushes nothing', body: LayerBody } },
    async (req, reply) => {
      const b = req.body;
      const target = targetOf(b.scope, b.target);
      const document = stripSecrets(b.document);
      const own = layerProblems({ ...b, target });
      if (own.length) return reply.status(400).send({ error: 'invalid layer', statusCode: 400, errors: own.map((e) => ({ ...e, kiosks: [] })) });
      const { kiosks, errors } = await f.rollouts.check({ scope: b.scope, target, document });
      // The diff: each kiosk's effective config as it runs (its newest acknowledged version) against the one this draft makes.
      const running = await hub.storage.facilities.runningConfigs(kiosks.map((k) => k.id));
      const refs = await f.rollouts.currentRefs(kiosks);
      const byChange = new Map<string, Change & { kiosks: string[] }>();
      for (const k of kiosks.slice(0, 2000)) {
        const ref = refs.get(k.id)!;
        const r = running.get(k.id);
        const before = r ? await f.composer.effective(k, { ...ref, ...(r.layers as object), zoneId: k.zone }) : await f.composer.effective(k, { defaults: 0, site: 0, zone: 0, kiosk: 0, zoneId: k.zone });
        const after = await f.composer.effective(k, ref, { scope: b.scope, target, document });
        if (!before || !after || after.errors.length) continue; // an invalid draft has no diff: its errors are shown
        for (const c of diff(before.document, after.document)) {
          const key = JSON.stringify(c);
          const g = byChange.get(key) ?? { ...c, kiosks: [] };
          g.kiosks.push(k.id);
          byChange.set(key, g);
        }
      }
      const current = await hub.storage.getLayer(b.scope, target);
      return {
        scope: b.scope,
        target,
        kiosks: kiosks.map((k) => k.id),
        errors,
        layerDiff: diff(current?.document ?? {}, document),
        changes: [...byChange.values()].sort((x, y) => (x.path < y.path ? -1 : 1)),
      };
    },
  );

  // ---- rollouts ------------------------------------------------------------------------

  const rolloutReply = async (id: string) => {
    const r = await hub.storage.facilities.getRollout(id);
    if (!r) return undefined;
    const kiosks = await hub.storage.facilities.rolloutKiosks(id);
    const counts = await hub.storage.facilities.rolloutCounts(id);
    const checks = f.checks.map((c) => ({ name: c.name, enabled: c.enabled(r) }));
    return { ...r, counts, checks, kiosks: kiosks.length > 500 ? kiosks.filter((k) => k.stage === 'canary' || !['acked', 'healthy'].includes(k.state)).slice(0, 500) : kiosks };
  };

  app.post<{ Body: LayerBody }>(
    '/api/facilities/rollouts',
    { config: { roles: [...EDIT] }, bodyLimit: 256 * 1024, schema: { tags: ['facilities'], summary: 'a new version of a layer, rolled out: canary kiosks first (chosen, or a percentage of the online ones), the rest once they are healthy; canary null: all at once. Refused with every error at its path if invalid for any kiosk (nothing stored or pushed)', body: LayerBody } },
    async (req, reply) => {
      const b = req.body;
      const target = targetOf(b.scope, b.target);
      const own = layerProblems({ ...b, target });
      if (own.length) {
        await hub.audit(req, `config.rollout.${b.scope}`, target, 'refused: invalid layer', { errors: own });
        return reply.status(400).send({ error: 'invalid layer', statusCode: 400, errors: own.map((e) => ({ ...e, kiosks: [] })) });
      }
      try {
        const canary = b.canary === undefined ? (b.scope === 'kiosk' ? { kiosks: [target] } : { percent: 10 }) : b.canary;
        const r = await f.rollouts.begin({ scope: b.scope, target, document: stripSecrets(b.document), comment: b.comment ?? '', by: req.session!.user, canary });
        await hub.audit(req, `config.rollout.${b.scope}`, target, 'ok', { rollout: r.id, version: r.version, state: r.state, comment: b.comment ?? '' });
        return reply.status(202).send(await rolloutReply(r.id));
      } catch (err) {
        if (!(err instanceof RolloutError)) throw err;
        const errors = (err as RolloutError & { errors?: unknown[] }).errors;
        await hub.audit(req, `config.rollout.${b.scope}`, target, `refused: ${err.message.slice(0, 300)}`);
        return reply.status(err.statusCode).send({ error: err.message, statusCode: err.statusCode, ...(errors ? { errors } : {}) });
      }
    },
  );

  app.post<{ Params: Static<typeof LayerParams>; Body: { version: number; canary?: Static<typeof Canary> } }>(
    '/api/facilities/layers/:scope/:target/rollback',
    {
      config: { roles: [...EDIT] },
      bodyLimit: 16 * 1024,
      schema: { tags: ['facilities'], summary: 'rollback of a layer to an earlier version: that document becomes its newest version and is pushed (at once unless canary is given)', params: LayerParams, body: Type.Object({ version: Type.Integer({ minimum: 1 }), canary: Type.Optional(Canary) }, { additionalProperties: false }) },
    },
    async (req, reply) => {
      const target = targetOf(req.params.scope, req.params.target);
      try {
        const r = await f.rollouts.rollback(req.params.scope, target, req.body.version, req.session!.user, req.body.canary ?? null);
        await hub.audit(req, `config.rollback.${req.params.scope}`, target, 'ok', { rollout: r.id, to: req.body.version, version: r.version });
        return reply.status(202).send(await rolloutReply(r.id));
      } catch (err) {
        if (!(err instanceof RolloutError)) throw err;
        await hub.audit(req, `config.rollback.${req.params.scope}`, target, `refused: ${err.message.slice(0, 300)}`);
        return reply.status(err.statusCode).send({ error: err.message, statusCode: err.statusCode, ...((err as { errors?: unknown[] }).errors ? { errors: (err as { errors?: unknown[] }).errors } : {}) });
      }
    },
  );

  app.get<{ Querystring: { scope?: LayerScope; target?: string } }>(
    '/api/facilities/rollouts',
    { config: { roles: ALL_ROLES }, schema: { tags: ['facilities'], summary: 'rollouts, newest first', querystring: Type.Object({ scope: Type.Optional(Scope), target: Type.Optional(Type.String({ maxLength: 64 })) }) } },
    async (req) => {
      const list = await hub.storage.facilities.listRollouts({ scope: req.query.scope, target: req.query.scope ? targetOf(req.query.scope, req.query.target) : undefined });
      return Promise.all(list.map(async (r) => ({ ...r, counts: await hub.storage.facilities.rolloutCounts(r.id) })));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/facilities/rollouts/:id',
    { config: { roles: ALL_ROLES }, schema: { tags: ['facilities'], summary: 'one rollout: stage, reason, each kiosk (canaries first) and counts', params: Type.Object({ id: Type.String({ maxLength: 64 }) }) } },
    async (req, reply) => (await rolloutReply(req.params.id)) ?? reply.status(404).send({ error: 'no such rollout', statusCode: 404 }),
  );

  // ---- enrolment: replace hardware -------------------------------------------------------

  app.post<{ Params: Static<typeof IdParams> }>(
    '/api/facilities/kiosks/:id/replace',
    { config: { roles: [...EDIT] }, bodyLimit: 4096, schema: { tags: ['facilities'], summary: 'replace the hardware of a kiosk: a new token (shown once; the old one is refused and its connection closed), the same identity, layers and history; the new box gets the current config at its first hello', params: IdParams } },
    async (req, reply) => {
      const token = newToken();
      const ok = await hub.storage.setToken(req.params.id, sha256Hex(token));
      await hub.audit(req, 'kiosk.replace', req.params.id, ok ? 'ok' : 'refused: unknown kiosk');
      if (!ok) return reply.status(404).send({ error: 'unknown kiosk', statusCode: 404 });
      await hub.bus.publish({ t: 'kiosk', id: req.params.id, change: 'token' });
      // A pending version of its current config: the new box starts on its own file and receives it at hello.
      const k = await hub.storage.getKiosk(req.params.id);
      let version: number | undefined;
      if (k?.baseConfig) version = (await f.rollouts.pushTo(req.session!.user, [k.id]))[0]?.version;
      return { id: req.params.id, token, ...(version ? { configVersion: version } : {}) };
    },
  );

  // The enrolment form's choices (the kiosk base files the hub knows, the zones).
  app.get('/api/facilities/enrolment', { config: { roles: ALL_ROLES }, schema: { tags: ['facilities'], summary: 'zones and kiosk base files to enrol a kiosk with' } }, async () => ({
    zones: site.zones.map((z) => z.id),
    baseConfigs: [...new Set((await hub.storage.listKiosks()).map((k) => k.baseConfig).filter((b): b is string => !!b))].sort(),
    location: Location,
  }));
}
