// Staged rollout of a layer change. The new layer version is stored 'staged':
// only the canary kiosks compose it. Once every canary acknowledged it and
// reported healthy (its own health window passed: applied live or restarted,
// SIP registered, no new fault) and the hub's checks pass (online, no new
// fault, and any plugged-in check such as a test call), the version is
// released and pushed to the rest. A canary that fails (refused, rolled back
// by itself, a new fault, no report in time) stops the rollout: the version
// is abandoned and the canaries get their previous config pushed again.
//
// Everything is in the database (rollouts, rollout_kiosks, config_layers.state);
// the instance holding a rollout's lease drives it, so a rollout survives a
// hub restart and runs across instances.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../core/log.js';
import { ConfigComposer } from '../config-compose.js';
import type { InstanceBus } from '../instance-bus.js';
import type { HubStorage, KioskRow, LayerRef, LayerScope } from '../storage/storage.js';
import type { RolloutKioskRow, RolloutKioskState, RolloutRow } from '../storage/facilities.js';
import { hubCheck, type CanaryCheck } from './checks.js';
import type { Composer } from './compose.js';

export interface LayerChange {
  scope: LayerScope;
  target: string;
  document: unknown;
  comment: string;
  by: string;
  kind?: 'change' | 'rollback';
  /** canary kiosks chosen by id, or a percentage of the layer's online kiosks; null: every kiosk at once */
  canary: { kiosks?: string[]; percent?: number } | null;
}

export class RolloutError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
  }
}

/** Extra time a canary gets beyond its health window: a restart, a reconnect, the report's way to the hub. */
export const CANARY_GRACE_S = 60;

export interface RolloutsOptions {
  storage: HubStorage;
  bus: InstanceBus;
  composer: Composer;
  log: Logger;
  instanceId: string;
  offlineAfterMs: number;
  /** this instance's view of its kiosks (fresher than the database) */
  localOnline: () => Map<string, { online: boolean }>;
  checks: CanaryCheck[];
  /** how often the runner looks at running rollouts (ms) */
  tickMs?: number;
  /** something about a rollout changed (the consoles' live views) */
  onChange?: (rolloutId: string) => void;
}

const refKey: Record<LayerScope, keyof Omit<LayerRef, 'zoneId'>> = { defaults: 'defaults', site: 'site', zone: 'zone', kiosk: 'kiosk' };

export class Rollouts {
  private timer?: NodeJS.Timeout;
  private ticking = false;
  private stopped = false;

  constructor(private readonly o: RolloutsOptions) {}

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.tick().finally(tick), this.o.tickMs ?? 250);
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Kiosks a layer applies to (enrolled, not revoked, with a base file). */
  async kiosksUnder(scope: LayerScope, target: string): Promise<KioskRow[]> {
    const rows = await this.o.storage.listKiosks(scope === 'zone' ? { zone: target } : scope === 'kiosk' ? { ids: [target] } : {});
    return rows.filter((k) => !k.revoked && k.baseConfig);
  }

  /**
   * The layer versions each kiosk composes now: the released ones, and the
   * staged version of a rollout whose canary it is.
   */
  async refsFor(kiosks: Pick<KioskRow, 'id' | 'zone'>[], exceptRollout?: string): Promise<(k: Pick<KioskRow, 'id' | 'zone'>, current: Map<string, number>) => LayerRef> {
    const pins = await this.o.storage.facilities.canaryPins(kiosks.map((k) => k.id), exceptRollout);
    const byKiosk = new Map<string, typeof pins>();
    for (const p of pins) byKiosk.set(p.kiosk, [...(byKiosk.get(p.kiosk) ?? []), p]);
    return (k, current) => {
      const ref = ConfigComposer.refFor(k, current);
      for (const p of byKiosk.get(k.id) ?? []) {
        const applies = p.scope === 'defaults' || p.scope === 'site' || (p.scope === 'zone' && p.target === k.zone) || (p.scope === 'kiosk' && p.target === k.id);
        if (applies) ref[refKey[p.scope]] = p.version;
      }
      return ref;
    };
  }

  /** Current refs of these kiosks, from the database's released versions and canary pins. */
  async currentRefs(kiosks: KioskRow[]): Promise<Map<string, LayerRef>> {
    const cur = await this.o.storage.currentLayers();
    const of = await this.refsFor(kiosks);
    return new Map(kiosks.map((k) => [k.id, of(k, cur)]));
  }

  /** A new config version for each of these kiosks from the layers they compose now; sent by whichever instance holds them. */
  async pushTo(by: string, kioskIds: string[], layer?: { scope: LayerScope; target: string; document: unknown; comment?: string }[], exceptRollout?: string): Promise<{ kiosk: string; version: number }[]> {
    if (kioskIds.length === 0 && !layer?.length) return [];
    const rows = await this.o.storage.listKiosks({ ids: kioskIds });
    const { pushId, versions } = await this.o.storage.pushConfig({ by, layer, kiosks: kioskIds, layersOf: await this.refsFor(rows, exceptRollout) });
    await this.o.bus.publish({ t: 'config', push: pushId });
    return versions;
  }

  /** Validation of a change against every kiosk it applies to, errors grouped by path. */
  async check(change: Pick<LayerChange, 'scope' | 'target' | 'document'>): Promise<{ kiosks: KioskRow[]; errors: { path: string; message: string; kiosks: string[] }[] }> {
    const kiosks = await this.kiosksUnder(change.scope, change.target);
    const refs = await this.currentRefs(kiosks);
    const key = JSON.stringify(change.document);
    const grouped = new Map<string, { path: string; message: string; kiosks: string[] }>();
    for (const k of kiosks) {
      const errors = (await this.o.composer.validate(k, refs.get(k.id)!, { ...change, key })) ?? [{ path: '', message: 'base config file unreadable' }];
      for (const e of errors) {
        const g = grouped.get(`${e.path}\n${e.message}`) ?? { path: e.path, message: e.message, kiosks: [] };
        g.kiosks.push(k.id);
        grouped.set(`${e.path}\n${e.message}`, g);
      }
    }
    return { kiosks, errors: [...grouped.values()] };
  }

  /** Starts a rollout: refused (nothing stored, nothing pushed) if the change is invalid for any kiosk or its layer is already rolling out. */
  async begin(change: LayerChange): Promise<RolloutRow> {
    const { storage, log } = this.o;
    const fs = storage.facilities;
    const active = await fs.activeRollouts(change.scope, change.target);
    if (active.some((r) => r.state === 'canary')) throw new RolloutError(`a rollout of this layer is in its canary stage (${active[0]!.id}); wait for it or let it fail`, 409);
    const { kiosks, errors } = await this.check(change);
    if (errors.length) throw Object.assign(new RolloutError(`invalid: ${errors.map((e) => `${e.path || '/'} ${e.message}`).join('; ')}`, 400), { errors });
    if (kiosks.length === 0) throw new RolloutError(`no kiosk under ${change.scope} ${change.target}`, 404);

    // Canaries: chosen ones that belong to the layer, or a share of its online kiosks spread over the id order.
    let canaries: string[] = [];
    if (change.canary) {
      const ids = new Set(kiosks.map((k) => k.id));
      if (change.canary.kiosks?.length) {
        const foreign = change.canary.kiosks.filter((k) => !ids.has(k));
        if (foreign.length) throw new RolloutError(`not under this layer: ${foreign.join(', ')}`, 400);
        canaries = [...new Set(change.canary.kiosks)];
      } else {
        const local = this.o.localOnline();
        const remote = await storage.onlineKiosks([...ids], this.o.offlineAfterMs);
        const online = kiosks.filter((k) => local.get(k.id)?.online || remote.has(k.id)).map((k) => k.id);
        if (online.length === 0) throw new RolloutError('no kiosk of this layer is online to be a canary: choose canaries, or push without a canary stage', 409);
        const n = Math.min(online.length, Math.max(1, Math.ceil((kiosks.length * (change.canary.percent ?? 10)) / 100)));
        canaries = Array.from({ length: n }, (_, i) => online[Math.floor((i * online.length) / n)]!);
      }
    }
    const canarySet = new Set(canaries);
    // The canaries' timeout: the longest health window among them, plus time for a restart and the report.
    let windowS = 0;
    if (canaries.length) {
      const refs = await this.currentRefs(kiosks.filter((k) => canarySet.has(k.id)));
      for (const k of kiosks.filter((x) => canarySet.has(x.id))) {
        const e = await this.o.composer.effective(k, refs.get(k.id)!, change);
        const hub = e?.document.hub as { configHealthWindowS?: number } | undefined;
        windowS = Math.max(windowS, hub?.configHealthWindowS ?? 60);
      }
    }
    const id = `ro-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const eventSerial = await fs.eventSerial();
    const row = await storage.db.transaction(async (tx) => {
      const previous = await fs.releasedVersion(change.scope, change.target, tx);
      const version = await fs.addLayerVersion(tx, { scope: change.scope, target: change.target, document: change.document, author: change.by, comment: change.comment, state: canaries.length ? 'staged' : 'released' });
      await fs.createRollout(
        tx,
        { id, kind: change.kind ?? 'change', scope: change.scope, target: change.target, version, previous, state: canaries.length ? 'canary' : 'rest', comment: change.comment, by: change.by, canaryTimeoutS: windowS + CANARY_GRACE_S, eventSerial },
        kiosks.map((k) => ({ kiosk: k.id, stage: canarySet.has(k.id) ? 'canary' : 'rest', faultsBefore: canarySet.has(k.id) ? k.faults : undefined })),
      );
      return { version, previous };
    });
    log.info({ rollout: id, scope: change.scope, target: change.target, version: row.version, canaries: canaries.length, kiosks: kiosks.length }, 'rollout started');
    await this.send(id, canaries.length ? canaries : kiosks.map((k) => k.id));
    this.o.onChange?.(id);
    return (await fs.getRollout(id))!;
  }

  /** Pushes to these kiosks of a rollout and records the versions they were sent. */
  private async send(id: string, kioskIds: string[]): Promise<void> {
    if (kioskIds.length === 0) return;
    const versions = await this.pushTo(`rollout:${id}`, kioskIds);
    await this.o.storage.facilities.updateRolloutKiosks(
      id,
      versions.map((v) => ({ kiosk: v.kiosk, state: 'sent', version: v.version })),
    );
  }

  /** Rollback of a layer to an earlier version: its document becomes the newest version (the history stays). */
  async rollback(scope: LayerScope, target: string, toVersion: number, by: string, canary: LayerChange['canary'] = null): Promise<RolloutRow> {
    const l = await this.o.storage.getLayer(scope, target, toVersion);
    if (!l) throw new RolloutError(`no version ${toVersion} of ${scope} ${target}`, 404);
    return this.begin({ scope, target, document: l.document, comment: `rollback to version ${toVersion}`, by, kind: 'rollback', canary });
  }

  // ---- the runner ------------------------------------------------------------

  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const mine = await this.o.storage.facilities.claimRollouts(this.o.instanceId, Math.max(5000, (this.o.tickMs ?? 250) * 20));
      for (const r of mine) {
        try {
          if (r.state === 'canary') await this.judgeCanaries(r);
          else if (r.state === 'rest') await this.followRest(r);
        } catch (err) {
          this.o.log.error({ rollout: r.id, err: (err as Error).message }, 'rollout step failed (retried)');
        }
      }
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'rollouts not read');
    } finally {
      this.ticking = false;
    }
  }

  /** What happened to each sent kiosk of a stage: acks, refusals, the kiosks' own verdicts. */
  private async observe(r: RolloutRow, rows: RolloutKioskRow[]) {
    const fs = this.o.storage.facilities;
    const sent = rows.filter((x) => x.version != null);
    const fates = await fs.configFates(sent.map((x) => ({ kiosk: x.kiosk, version: x.version! })));
    const verdicts = await fs.configVerdicts(
      sent.map((x) => x.kiosk),
      r.eventSerial,
    );
    // Superseded versions (another change reached the kiosk): follow its newest version if that still carries this rollout's layer version.
    const superseded = sent.filter((x) => fates.get(`${x.kiosk}@${x.version}`)?.status === 'superseded').map((x) => x.kiosk);
    const latest = await fs.latestConfigs(superseded);
    return { fates, verdicts, latest };
  }

  private async judgeCanaries(r: RolloutRow): Promise<void> {
    const { storage } = this.o;
    const fs = storage.facilities;
    const rows = await fs.rolloutKiosks(r.id, 'canary');
    const waiting = rows.filter((x) => x.state === 'waiting');
    if (waiting.length) await this.send(r.id, waiting.map((x) => x.kiosk)); // a restart between storing and pushing
    const { fates, verdicts, latest } = await this.observe(r, rows);
    const kiosks = new Map((await storage.listKiosks({ ids: rows.map((x) => x.kiosk) })).map((k) => [k.id, k]));
    const local = this.o.localOnline();
    const remote = await storage.onlineKiosks(rows.map((x) => x.kiosk), this.o.offlineAfterMs);
    const updates: { kiosk: string; state: RolloutKioskState; version?: number; detail?: string }[] = [];
    const failures: string[] = [];
    const overdue = Date.now() - r.stageAt > r.canaryTimeoutS * 1000;
    for (const row of rows) {
      if (row.state === 'healthy' || row.version == null) continue;
      let version = row.version;
      const fate = fates.get(`${row.kiosk}@${version}`);
      if (fate?.status === 'superseded') {
        const l = latest.get(row.kiosk);
        if (l && Number((l.layers as Record<string, unknown>)[refKey[r.scope]]) === r.version) {
          version = l.version;
          updates.push({ kiosk: row.kiosk, state: 'sent', version });
          continue;
        }
        failures.push(`${row.kiosk}: another change replaced the canary's config`);
        updates.push({ kiosk: row.kiosk, state: 'failed', detail: 'another change replaced this config' });
        continue;
      }
      if (fate?.status === 'refused') {
        const why = (fate.errors ?? []).map((e) => { const x = e as { path?: string; message?: string }; return `${x.path || '/'} ${x.message ?? ''}`.trim(); }).join('; ');
        failures.push(`${row.kiosk} refused it: ${why}`);
        updates.push({ kiosk: row.kiosk, state: 'refused', detail: why });
        continue;
      }
      const mine = verdicts.filter((v) => v.kiosk === row.kiosk && v.data.version === version);
      const rolledBack = mine.find((v) => v.type === 'config.rollback');
      if (rolledBack) {
        const why = `rolled back by itself to version ${rolledBack.data.to ?? '?'}: ${rolledBack.data.reason ?? 'no reason given'}`;
        failures.push(`${row.kiosk} ${why}`);
        updates.push({ kiosk: row.kiosk, state: 'rolled-back', detail: why });
        continue;
      }
      const acked = fate?.status === 'acked';
      const healthy = mine.some((v) => v.type === 'config.healthy');
      const k = kiosks.get(row.kiosk);
      if (healthy && k) {
        const online = !!local.get(row.kiosk)?.online || remote.has(row.kiosk);
        let verdict = hubCheck(row.faultsBefore, online, k);
        for (const c of this.o.checks) {
          if (verdict.state !== 'pass') break;
          if (c.enabled(r)) verdict = await c.judge(k, r, Date.parse(row.updatedAt));
        }
        if (verdict.state === 'pass') {
          updates.push({ kiosk: row.kiosk, state: 'healthy', detail: 'acknowledged, health window passed, no new fault' });
          continue;
        }
        if (verdict.state === 'fail') {
          failures.push(`${row.kiosk}: ${verdict.detail}`);
          updates.push({ kiosk: row.kiosk, state: 'failed', detail: verdict.detail });
          continue;
        }
        if (!overdue) {
          if (row.detail !== verdict.detail) updates.push({ kiosk: row.kiosk, state: row.state, detail: verdict.detail });
          continue;
        }
      }
      if (overdue) {
        const why = `no health report within ${r.canaryTimeoutS} s${acked ? ' (acknowledged)' : ' (not even acknowledged)'}`;
        failures.push(`${row.kiosk}: ${why}`);
        updates.push({ kiosk: row.kiosk, state: 'failed', detail: why });
      } else if (acked && row.state === 'sent') updates.push({ kiosk: row.kiosk, state: 'acked', detail: 'acknowledged; waiting for its health window' });
    }
    await fs.updateRolloutKiosks(r.id, updates);
    if (updates.length) this.o.onChange?.(r.id);
    if (failures.length) return this.fail(r, `canary failed: ${failures.join(' | ')}`);
    const after = await fs.rolloutKiosks(r.id, 'canary');
    if (after.every((x) => x.state === 'healthy')) await this.promote(r);
  }

  /** Every canary is healthy: the version is released and goes to the rest. */
  private async promote(r: RolloutRow): Promise<void> {
    const fs = this.o.storage.facilities;
    await this.o.storage.db.transaction(async (tx) => {
      await fs.setLayerState(r.scope, r.target, r.version, 'released', tx);
      await fs.setRolloutState(r.id, 'rest', 'canaries healthy', tx);
    });
    this.o.log.info({ rollout: r.id }, 'canaries healthy: rolling out to the rest');
    const rest = await fs.rolloutKiosks(r.id, 'rest');
    await this.send(r.id, rest.filter((x) => x.state === 'waiting').map((x) => x.kiosk));
    this.o.onChange?.(r.id);
  }

  /** A canary failed: the version is abandoned, the rollout stops and the canaries get their previous config again. */
  private async fail(r: RolloutRow, reason: string): Promise<void> {
    const fs = this.o.storage.facilities;
    await fs.setLayerState(r.scope, r.target, r.version, 'abandoned');
    this.o.log.warn({ rollout: r.id, reason }, 'rollout stopped; canaries get their previous config');
    const canaries = await fs.rolloutKiosks(r.id, 'canary');
    // Their configs compose the released layers again (this rollout's pins left out). The rollout reads
    // 'failed' only together with each canary's rollback version: a reader never sees one without the other.
    // Stopped half-way (a crash), the rollout is still in its canary stage and the next tick fails it again.
    const versions = await this.pushTo(`rollout:${r.id}:rollback`, canaries.map((c) => c.kiosk), undefined, r.id);
    await this.o.storage.db.transaction(async (tx) => {
      await fs.updateRolloutKiosks(
        r.id,
        versions.map((v) => {
          const c = canaries.find((x) => x.kiosk === v.kiosk)!;
          const state: RolloutKioskState = c.state === 'healthy' || c.state === 'acked' || c.state === 'sent' ? 'rolled-back' : c.state;
          return { kiosk: v.kiosk, state, detail: `${c.detail ? `${c.detail}; ` : ''}previous config pushed again as version ${v.version}` };
        }),
        tx,
      );
      await fs.setRolloutState(r.id, 'failed', reason, tx);
    });
    this.o.onChange?.(r.id);
  }

  private async followRest(r: RolloutRow): Promise<void> {
    const fs = this.o.storage.facilities;
    const rows = await fs.rolloutKiosks(r.id, 'rest');
    const waiting = rows.filter((x) => x.state === 'waiting');
    if (waiting.length) await this.send(r.id, waiting.map((x) => x.kiosk));
    const open = (await fs.rolloutKiosks(r.id, 'rest')).filter((x) => x.state === 'sent' || x.state === 'acked');
    const { fates, verdicts, latest } = await this.observe(r, open);
    const updates: { kiosk: string; state: RolloutKioskState; version?: number; detail?: string }[] = [];
    for (const row of open) {
      const fate = fates.get(`${row.kiosk}@${row.version}`);
      const mine = verdicts.filter((v) => v.kiosk === row.kiosk && v.data.version === row.version);
      const rb = mine.find((v) => v.type === 'config.rollback');
      if (rb) updates.push({ kiosk: row.kiosk, state: 'rolled-back', detail: `rolled back by itself: ${rb.data.reason ?? ''}` });
      else if (mine.some((v) => v.type === 'config.healthy')) updates.push({ kiosk: row.kiosk, state: 'healthy' });
      else if (fate?.status === 'refused') updates.push({ kiosk: row.kiosk, state: 'refused', detail: JSON.stringify(fate.errors ?? []).slice(0, 500) });
      else if (fate?.status === 'acked' && row.state === 'sent') updates.push({ kiosk: row.kiosk, state: 'acked' });
      else if (fate?.status === 'superseded') {
        const l = latest.get(row.kiosk);
        if (l && Number((l.layers as Record<string, unknown>)[refKey[r.scope]]) >= r.version) updates.push({ kiosk: row.kiosk, state: l.status === 'acked' ? 'acked' : 'sent', version: l.version });
        else updates.push({ kiosk: row.kiosk, state: 'failed', detail: 'another change replaced this config' });
      }
    }
    await fs.updateRolloutKiosks(r.id, updates);
    if (updates.length) this.o.onChange?.(r.id);
    // Done once no kiosk waits for an answer; a kiosk offline gets its version when it is back (the hub resends pending configs at hello).
    const still = (await fs.rolloutKiosks(r.id, 'rest')).filter((x) => x.state === 'sent');
    const local = this.o.localOnline();
    const remote = await this.o.storage.onlineKiosks(still.map((x) => x.kiosk), this.o.offlineAfterMs);
    const online = still.filter((x) => local.get(x.kiosk)?.online || remote.has(x.kiosk));
    if (online.length === 0) {
      const counts = await fs.rolloutCounts(r.id);
      const summary = counts.map((c) => `${c.stage} ${c.state}: ${c.n}`).join(', ');
      await fs.setRolloutState(r.id, 'done', still.length ? `${summary} (${still.length} offline: they get it when back)` : summary);
      this.o.log.info({ rollout: r.id, summary }, 'rollout done');
      this.o.onChange?.(r.id);
    }
  }
}
