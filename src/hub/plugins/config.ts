// Kiosk configuration from the hub, on versioned layers: defaults < site <
// zone < kiosk, each merged over the kiosk's base file. Today's console API
// stays: an override for one kiosk (its kiosk layer) or for a zone (the zone
// layer) or a list of kiosks. Every change makes a new config version for
// each affected kiosk, stored with the layer versions that made it; the
// instance holding a kiosk's socket sends it, the kiosk acks or nacks.
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { stripSecrets } from '../../config/secrets.js';
import { LAYER_SCOPES, type LayerScope } from '../storage/storage.js';
import { ALL_ROLES } from './auth.js';

const Doc = Type.Record(Type.String(), Type.Unknown());
const PushResult = Type.Object({ kiosk: Type.String(), version: Type.Optional(Type.Integer()), sent: Type.Optional(Type.Boolean()), error: Type.Optional(Type.String()) });
const IdParams = Type.Object({ id: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' }) });

export default async function config(app: FastifyInstance) {
  const { hub } = app;

  /** Stores layer changes and a new version for each kiosk, then tells every instance. */
  async function push(by: string, kioskIds: string[], layers: { scope: LayerScope; target: string; document: unknown; comment?: string }[]) {
    const rows = await hub.storage.kioskBases(kioskIds);
    const results: Static<typeof PushResult>[] = [];
    const ok: string[] = [];
    for (const id of kioskIds) {
      const r = rows.get(id);
      const base = r && hub.composer.base(r);
      if (!r || !base) results.push({ kiosk: id, error: 'unknown kiosk, or no base config file for it' });
      else if (!base.ok) results.push({ kiosk: id, error: base.error });
      else ok.push(id);
    }
    if (ok.length === 0) return results;
    // A layer whose new version is on trial on canary kiosks takes no other change until the trial ends.
    for (const l of layers) {
      const busy = (await hub.storage.facilities.activeRollouts(l.scope, l.target)).find((r) => r.state === 'canary');
      if (busy) throw Object.assign(new Error(`a rollout of ${l.scope} ${l.target} is in its canary stage (${busy.id})`), { statusCode: 409 });
    }
    // Canaries of a running rollout keep composing its staged version (src/hub/facilities/rollouts.ts).
    const rowsOk = ok.map((id) => ({ id, zone: rows.get(id)!.zone }));
    const { pushId, versions, layers: refs } = await hub.storage.pushConfig({ by, layer: layers, kiosks: ok, layersOf: await hub.facilities.rollouts.refsFor(rowsOk) });
    // The other instances read their kiosks' versions; this one sends its own from what it stored.
    await hub.bus.publish({ t: 'config', push: pushId, from: hub.instanceId });
    hub.link.deliverOwn(pushId, versions.map((v) => ({ ...v, layers: refs.get(v.kiosk)!, baseConfig: rows.get(v.kiosk)!.baseConfig })));
    const local = hub.link.localView();
    // Only kiosks not held here are asked of the database (held by another instance).
    const online = await hub.storage.onlineKiosks(ok.filter((k) => !local.get(k)?.online), hub.offlineAfterMs);
    for (const v of versions) results.push({ kiosk: v.kiosk, version: v.version, sent: !!local.get(v.kiosk)?.online || online.has(v.kiosk) });
    return results;
  }

  app.post<{ Params: Static<typeof IdParams>; Body: Record<string, unknown> }>(
    '/api/kiosks/:id/config',
    {
      config: { roles: ['facilities', 'admin'] },
      bodyLimit: 256 * 1024,
      schema: { tags: ['config'], summary: "change one kiosk's settings: the body is its kiosk layer (an override over its base file and the layers below)", params: IdParams, body: Doc, response: { 202: PushResult } },
    },
    async (req, reply) => {
      const id = req.params.id;
      const [r] = await push(req.session!.user, [id], [{ scope: 'kiosk', target: id, document: stripSecrets(req.body) }]);
      await hub.audit(req, 'config.kiosk', id, r!.error ? `refused: ${r!.error}` : 'ok', { version: r!.version });
      if (r!.error) return reply.status(404).send({ error: r!.error, statusCode: 404 });
      req.log.info({ kiosk: id, version: r!.version, sent: r!.sent }, 'config pushed');
      return reply.status(202).send(r);
    },
  );

  const Many = Type.Object(
    { zone: Type.Optional(Type.String({ maxLength: 64 })), kiosks: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20000 })), override: Doc, comment: Type.Optional(Type.String({ maxLength: 500 })) },
    { additionalProperties: false },
  );
  app.post<{ Body: Static<typeof Many> }>(
    '/api/config',
    {
      config: { roles: ['facilities', 'admin'] },
      bodyLimit: 256 * 1024,
      schema: { tags: ['config'], summary: 'change a zone (its zone layer) and/or a list of kiosks (their kiosk layers)', body: Many, response: { 202: Type.Object({ results: Type.Array(PushResult) }) } },
    },
    async (req, reply) => {
      const b = req.body;
      const override = stripSecrets(b.override);
      const layers: { scope: LayerScope; target: string; document: unknown; comment?: string }[] = [];
      const ids = new Set<string>();
      if (b.zone) {
        const inZone = await hub.storage.kioskIds({ zone: b.zone, withRevoked: true });
        if (inZone.length) layers.push({ scope: 'zone', target: b.zone, document: override, comment: b.comment });
        for (const k of inZone) ids.add(k);
      }
      const known = new Set(b.kiosks?.length ? await hub.storage.kioskIds({ ids: b.kiosks, withRevoked: true }) : []);
      for (const k of b.kiosks ?? []) {
        if (!known.has(k)) continue;
        ids.add(k);
        layers.push({ scope: 'kiosk', target: k, document: override, comment: b.comment });
      }
      if (ids.size === 0) return reply.status(400).send({ error: 'no kiosk matches "zone" or "kiosks"', statusCode: 400 });
      const results = await push(req.session!.user, [...ids], layers);
      await hub.audit(req, 'config.push', b.zone ? `zone:${b.zone}` : [...ids].slice(0, 20).join(','), 'ok', { kiosks: ids.size });
      req.log.info({ kiosks: ids.size, sent: results.filter((r) => r.sent).length }, 'config pushed');
      return reply.status(202).send({ results });
    },
  );

  const Layer = Type.Object(
    { scope: Type.Union(LAYER_SCOPES.map((s) => Type.Literal(s))), target: Type.Optional(Type.String({ maxLength: 64 })), document: Doc, comment: Type.Optional(Type.String({ maxLength: 500 })) },
    { additionalProperties: false },
  );
  app.post<{ Body: Static<typeof Layer> }>(
    '/api/config/layers',
    {
      config: { roles: ['facilities', 'admin'] },
      bodyLimit: 256 * 1024,
      schema: { tags: ['config'], summary: 'a new version of a layer (defaults, site, zone or kiosk), pushed to every kiosk under it', body: Layer, response: { 202: Type.Object({ scope: Type.String(), target: Type.String(), results: Type.Array(PushResult) }) } },
    },
    async (req, reply) => {
      const { scope, document, comment } = req.body;
      const target = scope === 'defaults' || scope === 'site' ? '' : (req.body.target ?? '');
      if ((scope === 'zone' || scope === 'kiosk') && !target) return reply.status(400).send({ error: `"target" names the ${scope}`, statusCode: 400 });
      const all = await hub.storage.listKiosks(scope === 'zone' ? { zone: target } : scope === 'kiosk' ? { ids: [target] } : {});
      if (all.length === 0) return reply.status(404).send({ error: `no kiosk under ${scope} ${target}`, statusCode: 404 });
      const withBase = all.filter((k) => k.baseConfig).map((k) => k.id);
      const results = await push(req.session!.user, withBase, [{ scope, target, document: stripSecrets(document), comment }]);
      await hub.audit(req, `config.layer.${scope}`, target, 'ok', { kiosks: withBase.length });
      return reply.status(202).send({ scope, target, results });
    },
  );

  app.get<{ Querystring: { scope?: LayerScope; target?: string } }>(
    '/api/config/layers',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags: ['config'],
        summary: 'every version of every layer (without documents)',
        querystring: Type.Object({ scope: Type.Optional(Type.Union(LAYER_SCOPES.map((s) => Type.Literal(s)))), target: Type.Optional(Type.String({ maxLength: 64 })) }),
        response: { 200: Type.Array(Type.Object({ scope: Type.String(), target: Type.String(), version: Type.Integer(), author: Type.String(), comment: Type.String(), createdAt: Type.String() })) },
      },
    },
    async (req) => hub.storage.listLayers(req.query.scope, req.query.target),
  );

  app.get<{ Params: { scope: LayerScope; target: string }; Querystring: { version?: number } }>(
    '/api/config/layers/:scope/:target',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags: ['config'],
        summary: 'one layer document (the newest, or ?version=N); target "-" for defaults and site',
        params: Type.Object({ scope: Type.Union(LAYER_SCOPES.map((s) => Type.Literal(s))), target: Type.String({ maxLength: 64 }) }),
        querystring: Type.Object({ version: Type.Optional(Type.Integer({ minimum: 1 })) }),
        response: { 200: Type.Union([Type.Null(), Type.Object({ version: Type.Integer(), document: Type.Unknown(), author: Type.String(), comment: Type.String(), createdAt: Type.String() })]) },
      },
    },
    async (req) => (await hub.storage.getLayer(req.params.scope, req.params.target === '-' ? '' : req.params.target, req.query.version)) ?? null,
  );

  app.get<{ Querystring: { zone?: string } }>(
    '/api/config/status',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags: ['config'],
        summary: "how many kiosks (of a zone) acknowledged their newest config version",
        querystring: Type.Object({ zone: Type.Optional(Type.String({ maxLength: 64 })) }),
        response: { 200: Type.Object({ acked: Type.Integer(), pending: Type.Integer(), refused: Type.Integer() }) },
      },
    },
    async (req) => hub.storage.configStatus(req.query.zone),
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/api/kiosks/:id/config',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags: ['config'],
        summary: "a kiosk's newest config version, its document (secrets removed) and whether the kiosk acknowledged it",
        params: IdParams,
        response: {
          200: Type.Union([
            Type.Null(),
            Type.Object({
              version: Type.Integer(),
              status: Type.String(),
              acked: Type.Boolean(),
              errors: Type.Optional(Type.Array(Type.Unknown())),
              layers: Type.Unknown(),
              createdAt: Type.String(),
              document: Type.Optional(Doc),
            }),
          ]),
        },
      },
    },
    async (req) => {
      const latest = await hub.storage.latestConfig(req.params.id);
      if (!latest) return null;
      const row = await hub.storage.getKiosk(req.params.id);
      const document = row && (await hub.composer.compose(row, latest.layers));
      return {
        version: latest.version,
        status: latest.status,
        acked: latest.status === 'acked',
        ...(latest.errors ? { errors: latest.errors } : {}),
        layers: latest.layers,
        createdAt: latest.createdAt,
        ...(document ? { document: stripSecrets(document) } : {}),
      };
    },
  );
}
