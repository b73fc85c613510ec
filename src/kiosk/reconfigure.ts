// A config from the hub, from the frame to last-known-good:
//   1. validate (same schema as the CLI); refuse a version already here with
//      another document, an older version, a version that failed here;
//   2. persist it (a restart comes back on it) and open its trial;
//   3. hand each capability the diff of its own sections; each applies it
//      live, defers it until the call in progress ends, or asks for a restart;
//      sections nobody takes live need a restart;
//   4. acknowledge with what happened per section; restart cleanly if needed
//      (once no call is in progress);
//   5. after the health window (src/kiosk/health-window.ts) the config becomes
//      last-known-good, or the kiosk goes back to the last-known-good config,
//      applied the same way, and reports why (event config.rollback).
import type { Bus } from '../core/bus.js';
import type { Logger } from '../core/log.js';
import type { Reconfigured } from '../core/capability.js';
import type { ConfigError, ConfigReply, ConfigSection, KioskCapability } from '../core/context.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import type { KioskStore } from '../store/kiosk-store.js';
import { validateKioskConfig } from '../config/validate.js';
import { keepSecrets } from '../config/secrets.js';
import { canonical, changedSections, fingerprint } from './config-diff.js';
import type { ConfigTrialStore, Trial } from './config-trial.js';
import { baselineOf, HealthWindow, type HealthProbe } from './health-window.js';

export const DEFAULT_HEALTH_WINDOW_S = 60;

/**
 * Settings of the device, not of the fleet: always the kiosk's own file's (like its secrets).
 * `system` holds a command the kiosk runs (the reboot): the hub must never choose it.
 */
const DEVICE_LOCAL = ['dataDir', 'local', 'system'] as const;

type How = 'live' | 'deferred' | 'restart';
const RANK: Record<How, number> = { live: 0, deferred: 1, restart: 2 };

export interface ApplierHost {
  bus: Bus;
  log: Logger;
  store: KioskStore;
  trials: ConfigTrialStore;
  /** in start order */
  capabilities: readonly KioskCapability[];
  /** the kiosk's own file: the floor when no last-known-good is stored */
  fileConfig: KioskConfig;
  /** the folder of that file: relative paths in a pushed config (sip.tls) point there, and are checked */
  configDir?: string;
  config(): KioskConfig;
  setConfig(c: KioskConfig): void;
  probe: HealthProbe;
  /** a clean restart, once no capability is busy */
  restart(reason: string): void;
}

interface Applied {
  live: ConfigSection[];
  deferred: ConfigSection[];
  restart: ConfigSection[];
  /** settle when the deferred sections are applied */
  waits: Promise<void>[];
}

class ApplyError extends Error {
  constructor(
    readonly capability: string,
    readonly sections: readonly string[],
    cause: unknown,
  ) {
    super(`${capability}: ${(cause as Error)?.message ?? String(cause)}`);
  }
}

/** Sections the kiosk itself handles; everything nobody takes live needs a restart. */
function kioskOwned(section: ConfigSection, next: KioskConfig, log: Logger): How | undefined {
  if (section === 'log') {
    log.level = next.log.level;
    return 'live';
  }
  return undefined;
}

export class ConfigApplier {
  private window?: HealthWindow;
  /** bumps with every change: late callbacks of an older trial do nothing */
  private generation = 0;
  private queue: Promise<unknown> = Promise.resolve();
  /** deferred applies not done yet, whichever push they came with: a later trial waits for them too */
  private readonly outstanding = new Set<Promise<void>>();

  constructor(private readonly h: ApplierHost) {}

  /** A pushed config; pushes are handled one at a time, in arrival order. */
  receive(version: number, doc: unknown): Promise<ConfigReply> {
    return this.serial(() => this.receiveNow(version, doc));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn, fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private refuse(code: Extract<ConfigReply, { ok: false }>['code'], errors: ConfigError[], version: number): ConfigReply {
    this.h.log.warn({ version, code, errors }, 'config from the hub refused');
    return { ok: false, code, errors };
  }

  private async receiveNow(version: number, doc: unknown): Promise<ConfigReply> {
    const cur = this.h.config();
    // The hub never sends secrets (hub token, SIP passwords): the kiosk keeps its own. Where the
    // kiosk keeps its store and the port its screen browser opens belong to the device: from its own file.
    const pushed = keepSecrets(doc as object, cur) as Record<string, unknown>;
    const file = this.h.fileConfig;
    for (const k of DEVICE_LOCAL) {
      if (k in pushed && canonical(pushed[k]) !== canonical(file[k])) this.h.log.warn({ version, setting: k, pushed: pushed[k], kept: file[k] }, 'a pushed device setting is not used: the kiosk keeps its own');
    }
    const own: Record<string, unknown> = { ...pushed, dataDir: file.dataDir, local: file.local, configVersion: version };
    if (file.system) own.system = file.system;
    else delete own.system;
    const v = validateKioskConfig(own, { dir: this.h.configDir });
    if (!v.ok) return this.refuse('invalid', v.errors, version);
    const next = v.value;
    if (next.id !== cur.id) return this.refuse('wrong-kiosk', [{ path: '/id', message: `config is for kiosk "${next.id}", this is "${cur.id}"` }], version);
    const fp = fingerprint(next);
    const seen = this.h.trials.entry(version);
    const known = seen?.fingerprint ?? (version === cur.configVersion ? fingerprint(cur) : undefined);
    if (known !== undefined) {
      if (known !== fp) return this.refuse('conflict', [{ path: '', message: `version ${version} is already here with a different document; a changed config needs a new version` }], version);
      if (seen?.state === 'rolled-back') return this.refuse('rolled-back', [{ path: '', message: `version ${version} was rolled back here: ${seen.reason ?? 'failed its health window'}` }], version);
      if (version === cur.configVersion) {
        this.h.log.info({ version }, 'config from the hub already applied; acknowledged again');
        return { ok: true, live: [], deferred: [], restart: [], repeat: true, healthWindowS: windowOf(next) };
      }
    }
    if (version <= cur.configVersion) return this.refuse('stale', [{ path: '', message: `version ${version} is older than the running version ${cur.configVersion}` }], version);

    const touched = this.touched(cur, next);
    const trial: Trial = { version, fingerprint: fp, appliedAt: new Date().toISOString(), windowS: windowOf(next), baseline: baselineOf(this.h.probe, touched) };
    this.window?.cancel();
    this.generation++;
    // Persisted before anything changes: a restart comes back on it, a crash on the last-known-good.
    await this.h.store.saveConfig(next);
    await this.h.trials.begin(trial);
    let done: Applied;
    try {
      done = await this.applyLive(next, cur);
    } catch (err) {
      const e = err as ApplyError;
      this.h.log.error({ version, err: e.message }, 'config could not be applied; rolling back');
      await this.rollback(`could not apply: ${e.message}`);
      return this.refuse('apply-failed', (e.sections ?? ['']).map((s) => ({ path: s ? `/${s}` : '', message: e.message })), version);
    }
    const { live, deferred, restart } = done;
    this.h.log.info({ version, previous: cur.configVersion, live, deferred, restart }, 'config applied from the hub');
    this.h.bus.emit('config.applied', { version, source: 'hub', live, deferred, restart });
    // With a restart, the window runs in the next process (the trial is persisted).
    if (restart.length) this.h.restart(`config ${version}: ${restart.join(', ')} need a restart`);
    else this.watch(trial, done.waits, trial.windowS * 1000);
    return { ok: true, live, deferred, restart, healthWindowS: trial.windowS };
  }

  /** Names of the capabilities a change from `prev` to `next` touches. */
  private touched(prev: KioskConfig, next: KioskConfig): string[] {
    const sections = changedSections(prev, next);
    return this.h.capabilities.filter((c) => c.config.some((s) => sections.includes(s))).map((c) => c.name);
  }

  /** Switches the running kiosk from prev to next, capability by capability (start order). */
  private async applyLive(next: KioskConfig, prev: KioskConfig): Promise<Applied> {
    const sections = changedSections(prev, next);
    this.h.setConfig(next); // capabilities that read the config when they act follow from here
    const how = new Map<ConfigSection, How>();
    const put = (s: ConfigSection, o: How) => {
      const had = how.get(s);
      if (!had || RANK[o] > RANK[had]) how.set(s, o);
    };
    const waits: Promise<void>[] = [];
    for (const cap of this.h.capabilities) {
      const mine = cap.config.filter((s) => sections.includes(s));
      if (mine.length === 0) continue;
      let r: Reconfigured;
      try {
        r = cap.reconfigure ? await cap.reconfigure({ next, prev, sections: mine }) : 'restart';
      } catch (err) {
        throw new ApplyError(cap.name, mine, err);
      }
      const o: How = r === 'restart' ? 'restart' : typeof r === 'object' ? 'deferred' : 'live';
      if (typeof r === 'object') {
        this.h.log.info({ capability: cap.name, sections: mine, why: r.deferred }, 'config change deferred');
        waits.push(r.applied);
        const p = r.applied;
        this.outstanding.add(p);
        p.then(
          () => this.outstanding.delete(p),
          () => this.outstanding.delete(p),
        );
      }
      for (const s of mine) put(s, o);
    }
    for (const s of sections) if (!how.has(s)) put(s, kioskOwned(s, next, this.h.log) ?? 'restart');
    const list = (o: How) => sections.filter((s) => how.get(s) === o);
    return { live: list('live'), deferred: list('deferred'), restart: list('restart'), waits };
  }

  /** Runs the health window once the deferred sections are applied. */
  private watch(trial: Trial, waits: Promise<void>[], ms: number): void {
    const gen = this.generation;
    // A change deferred by an earlier push is part of this config too: judge it once it is in.
    Promise.all([...waits, ...this.outstanding]).then(
      () => {
        if (gen !== this.generation) return;
        this.window = new HealthWindow({
          bus: this.h.bus,
          probe: this.h.probe,
          baseline: trial.baseline,
          ms,
          pass: () => void this.serial(() => (gen === this.generation ? this.confirm(trial) : Promise.resolve())),
          fail: (reason) => void this.serial(() => (gen === this.generation ? this.rollback(reason) : Promise.resolve())),
        });
        this.window.start();
      },
      (err: Error) => void this.serial(() => (gen === this.generation ? this.rollback(`could not apply: ${err.message}`) : Promise.resolve())),
    );
  }

  private async confirm(trial: Trial): Promise<void> {
    this.generation++;
    const config = this.h.config();
    await this.h.store.markLastKnownGood(config);
    await this.h.trials.end('good');
    this.h.log.info({ version: trial.version, windowS: trial.windowS }, 'config healthy: now last-known-good');
    this.h.bus.emit('config.healthy', { version: trial.version, windowS: trial.windowS });
  }

  /** Back to the last-known-good config, applied the same way; reported as config.rollback. */
  private async rollback(reason: string): Promise<void> {
    this.window?.cancel();
    this.generation++;
    const failed = this.h.trials.trial?.version ?? this.h.config().configVersion;
    const lkg = this.lastKnownGood();
    const current = this.h.config();
    this.h.log.error({ version: failed, to: lkg.configVersion, reason }, 'config failed; rolling back to last-known-good');
    await this.h.trials.end('rolled-back', reason);
    await this.h.store.saveConfig(lkg);
    this.h.bus.emit('config.rollback', { version: failed, to: lkg.configVersion, reason, at: new Date().toISOString() });
    let done: Applied;
    try {
      done = await this.applyLive(lkg, current);
    } catch (err) {
      // Even the known-good config does not apply live: a clean start on it will.
      this.h.log.error({ err: (err as Error).message }, 'last-known-good config could not be applied live');
      this.h.restart(`rollback to ${lkg.configVersion}: live apply failed`);
      return;
    }
    this.h.bus.emit('config.applied', { version: lkg.configVersion, source: 'lkg', live: done.live, deferred: done.deferred, restart: done.restart });
    if (done.restart.length) this.h.restart(`rollback to ${lkg.configVersion}: ${done.restart.join(', ')} need a restart`);
  }

  /** The stored last-known-good config if it is for this kiosk, newer than its file and still valid; else the file. */
  lastKnownGood(): KioskConfig {
    const file = this.h.fileConfig;
    const doc = this.h.store.lkg.data.config;
    if (doc && doc.id === file.id && doc.configVersion > file.configVersion) {
      const v = validateKioskConfig(doc);
      if (v.ok) return v.value;
    }
    return file;
  }

  /**
   * At start-up, once the capabilities run: report a trial that failed by
   * stopping the kiosk (the start chose the last-known-good), or resume the
   * window of the config on trial after a planned restart or a clean stop.
   */
  resume(rolledBack?: { version: number; reason: string }): void {
    void this.serial(async () => {
      const trial = this.h.trials.trial;
      if (rolledBack) {
        const to = this.h.config().configVersion;
        await this.h.trials.end('rolled-back', rolledBack.reason);
        await this.h.store.saveConfig(this.h.config());
        this.h.log.error({ version: rolledBack.version, to, reason: rolledBack.reason }, 'config failed; started on last-known-good');
        this.h.bus.emit('config.rollback', { version: rolledBack.version, to, reason: rolledBack.reason, at: new Date().toISOString() });
        return;
      }
      if (!trial) return;
      if (trial.version !== this.h.config().configVersion) {
        await this.h.trials.end('superseded', `not running at start-up (running version ${this.h.config().configVersion})`);
        return;
      }
      await this.h.trials.resumed();
      this.h.log.info({ version: trial.version, windowS: trial.windowS }, 'config on trial: health window running');
      this.watch(trial, [], trial.windowS * 1000);
    });
  }

  /** A restart or a clean stop is planned: the next start resumes the trial instead of rolling it back. */
  plan(planned: 'restart' | 'stop'): Promise<boolean> {
    this.window?.cancel();
    return this.h.trials.plan(planned);
  }
}

function windowOf(c: KioskConfig): number {
  return c.hub?.configHealthWindowS ?? DEFAULT_HEALTH_WINDOW_S;
}
