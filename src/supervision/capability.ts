// Supervision as a kiosk capability (issue 15): the automatic test alarm on a
// jittered schedule (default 72 h) and on demand (hub command
// supervision.test, local POST /supervision/test), the local self-tests, the
// screen heartbeat and clock faults, and the Prometheus endpoint. It reaches
// the intercom, mixer, microphone and GPIO only through the context's services.
import { SharedInput } from '../audio/shared-input.js';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { KioskCapability, KioskContext } from '../core/context.js';
import { healthOf, type ConfigChange, type Reconfigured } from '../core/capability.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import { supervisionConfig } from '../config/schema/supervision-defaults.js';
import { sendJson } from '../kiosk/local-server.js';
import { RoomInput } from '../audio/input/room.js';
import { SimDriver } from '../io/sim-driver.js';
import { OUTPUT_NAMES, type OutputName } from '../io/types.js';
import type { TestCallHandle } from '../intercom/test-call.js';
import { runCallTest } from './call-test.js';
import { acousticLoop, lampReadBack, relayReadBack, storageProbe, timed } from './self-tests.js';
import { KioskMetrics } from './metrics.js';
import { nextTestAt } from './schedule.js';
import type { SupervisionStep, SupervisionTest, TestTrigger } from './events.js';

/** What the hub link asks of supervision (ctx.services.supervision). */
export interface SupervisionService {
  /** Runs a test now (or joins the one running); resolves with its verdict. Rejects when it cannot run (a call in progress). */
  run(trigger: TestTrigger): Promise<SupervisionTest>;
}

/** A call or an alarm in progress postpones a scheduled test by this much. */
const BUSY_RETRY_MS = 60_000;

export class SupervisionCapability implements KioskCapability, SupervisionService {
  readonly name = 'supervision';
  readonly fault = 'test-failed' as const;
  readonly config = ['supervision'] as const;
  readonly raises = ['supervision.test', 'supervision.started', 'fault.raised', 'fault.cleared'] as const;
  readonly handles = ['sip.registration', 'hub.clock', 'screen.heartbeat', 'relay.pulse', 'call.media'] as const;
  private ctx?: KioskContext;
  private timer?: NodeJS.Timeout;
  private screenTimer?: NodeJS.Timeout;
  private running?: Promise<SupervisionTest>;
  private runningTrigger?: TestTrigger;
  private nextAt?: number;
  private readonly registered = new Map<string, boolean>();
  private clockOffsetMs?: number;
  private lastHeartbeat?: number;
  /** start-up (performance.now()): a screen page that never connects is noticed screenStartS after it */
  private startedAt = 0;
  private screenStartTimer?: NodeJS.Timeout;
  private lastPulseAt = 0;
  private audioFaultRaised = false;
  private call?: TestCallHandle;
  private offs: (() => void)[] = [];
  metrics?: KioskMetrics;
  private stopped = false;

  private get cfg() {
    return supervisionConfig(this.ctx!.config().supervision);
  }

  async start(ctx: KioskContext): Promise<void> {
    this.ctx = ctx;
    this.stopped = false;
    const { bus } = ctx;
    this.offs.push(
      bus.on('sip.registration', (e) => this.registered.set(e.registrar, e.registered)),
      bus.on('relay.pulse', () => (this.lastPulseAt = Date.now())),
      bus.on('hub.clock', (e) => this.clock(e.offsetMs)),
      bus.on('screen.heartbeat', (e) => {
        this.lastHeartbeat = e.at;
        ctx.faults.clear('screen');
        if (!this.screenTimer) this.watchScreen(); // no timer at all on a kiosk without a screen page
      }),
    );
    this.startedAt = performance.now();
    this.watchScreenStart();
    this.metrics = new KioskMetrics(bus, () => ctx.faults.list());
    ctx.services.supervision = this;
    this.routes(ctx);
    this.schedule(true);
  }

  private routes(ctx: KioskContext): void {
    const { local } = ctx;
    local.route('GET', '/metrics', async (_req, res) => {
      const m = await this.metrics!.render();
      res.writeHead(200, { 'content-type': m.contentType });
      res.end(m.text);
    });
    local.route('GET', '/supervision', (_req, res) => sendJson(res, 200, this.status()));
    // On demand, locally (a technician on site); acts: sim driver or the local token.
    local.route('POST', '/supervision/test', async (_req, res) => {
      try {
        sendJson(res, 200, await this.run('local'));
      } catch (err) {
        sendJson(res, 409, { error: (err as Error).message });
      }
    });
    const driver = ctx.services.ioDriver;
    if (driver instanceof SimDriver) {
      // The sim's acoustic loop (speaker -> room -> microphone) and stuck outputs, for tests and the demo.
      local.route('POST', '/sim/acoustic', (_req, res, body) => {
        const { broken } = (body ?? {}) as { broken?: unknown };
        if (typeof broken !== 'boolean') throw new Error('"broken" must be true or false');
        const mic = ctx.services.rawMicrophone;
        const raw = mic instanceof SharedInput ? mic.source : mic;
        if (!(raw instanceof RoomInput)) throw new Error('the acoustic loop needs audio.input.source "room"');
        raw.loopBroken = broken;
        sendJson(res, 200, { broken });
      });
      local.route('POST', '/sim/stuck', (_req, res, body) => {
        const { output, level } = (body ?? {}) as { output?: unknown; level?: unknown };
        if (typeof output !== 'string' || !(OUTPUT_NAMES as readonly string[]).includes(output)) throw new Error('"output" must name an output');
        if (level !== null && typeof level !== 'boolean') throw new Error('"level" must be true, false or null (works again)');
        driver.setStuck(output as OutputName, level ?? undefined);
        sendJson(res, 200, driver.snapshot());
      });
    }
  }

  status() {
    return { enabled: this.cfg.enabled, intervalS: this.cfg.intervalS, next: this.nextAt ? new Date(this.nextAt).toISOString() : undefined, running: !!this.running, clockOffsetMs: this.clockOffsetMs, lastHeartbeatAgoMs: this.lastHeartbeat ? Math.round(performance.now() - this.lastHeartbeat) : undefined };
  }

  // --- schedule ------------------------------------------------------------

  private stateFile(): string {
    return path.join(this.ctx!.store.dir, 'supervision', 'state.json');
  }

  private lastTestAt(): number | undefined {
    try {
      const at = (JSON.parse(readFileSync(this.stateFile(), 'utf8')) as { lastTestAt?: string }).lastTestAt;
      return at ? Date.parse(at) : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The next scheduled test: a random point of the first interval for a kiosk
   * that never tested (a fleet spreads out), else the last test + interval,
   * moved by up to jitterS either way; an overdue test runs within a minute.
   */
  private schedule(first = false, delayMs?: number): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.nextAt = undefined;
    if (this.stopped) return;
    const cfg = this.cfg;
    if (!cfg.enabled) return;
    const at = delayMs !== undefined ? Date.now() + delayMs : nextTestAt({ now: Date.now(), lastTestAt: first ? this.lastTestAt() : Date.now(), intervalS: cfg.intervalS, jitterS: cfg.jitterS });
    this.nextAt = at;
    // setTimeout holds at most 2^31-1 ms (24.8 days): longer waits go in steps.
    const wait = Math.min(at - Date.now(), 2 ** 31 - 1);
    this.timer = setTimeout(() => {
      if (Date.now() < at - 5) return this.schedule(false, at - Date.now());
      void this.scheduled();
    }, Math.max(0, wait));
    this.timer.unref();
  }

  private async scheduled(): Promise<void> {
    try {
      await this.run('schedule');
    } catch (err) {
      this.ctx?.log.info({ reason: (err as Error).message }, 'scheduled test postponed');
      this.schedule(false, BUSY_RETRY_MS);
    }
  }

  // --- a test --------------------------------------------------------------

  run(trigger: TestTrigger): Promise<SupervisionTest> {
    // The same request joins the running test; another (the hub asking during a scheduled test) gets its own, after it.
    if (this.running && this.runningTrigger === trigger) return this.running;
    if (this.running) return this.running.catch(() => undefined).then(() => this.run(trigger));
    const ctx = this.ctx;
    if (!ctx) return Promise.reject(new Error('supervision is not running'));
    const busy = ctx.services.alarm?.isOpen() ? 'an alarm is open' : undefined;
    if (busy) return Promise.reject(new Error(`test not run: ${busy}`));
    const p = this.test(trigger).finally(() => {
      if (this.running === p) this.running = undefined;
    });
    this.running = p;
    this.runningTrigger = trigger;
    return p;
  }

  private async test(trigger: TestTrigger): Promise<SupervisionTest> {
    const ctx = this.ctx!;
    const config = ctx.config();
    const cfg = this.cfg;
    const startedAt = new Date().toISOString();
    const testId = `${config.id}-t-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
    ctx.bus.emit('supervision.started', { testId, trigger, startedAt });
    const target = cfg.target || config.sip.targets.emergency[0]?.uri || '';
    const registrars = config.sip.account.registrars.map((r) => r.uri);
    ctx.log.info({ testId, trigger, target }, 'supervision test');
    const callStart = performance.now();
    const result = await runCallTest({
      calls: ctx.services.calls,
      testId,
      callId: `test-${testId}`,
      target,
      registrars,
      registeredWith: ctx.services.calls?.registeredWith?.() ?? registrars.filter((r) => this.registered.get(r)),
      answerTimeoutMs: cfg.answerTimeoutMs,
      toneTimeoutMs: cfg.toneTimeoutMs,
      dtmfTimeoutMs: cfg.dtmfTimeoutMs,
      onCall: (h) => (this.call = h),
    }).catch((err: Error) => {
      // The intercom refused the call (a call began meanwhile): no verdict, the caller is told why.
      throw new Error(`test not run: ${err.message}`);
    });
    const steps: SupervisionStep[] = [...result.steps];
    if (result.interrupted) {
      for (const name of ['acoustic-loop', 'lamps', 'relays', 'screen', 'storage', 'clock'] as const) steps.push({ step: name, ok: false, ms: 0, detail: 'skipped: interrupted by a call' });
    } else steps.push(...(await this.localTests(testId, config)));
    ctx.log.info({ testId, callMs: Math.round(performance.now() - callStart) }, 'supervision test done');
    const failed = steps.find((s) => !s.ok);
    const passed = !failed;
    if (!result.interrupted) this.remember();
    this.schedule(false);
    const verdict: SupervisionTest = {
      testId,
      trigger,
      startedAt,
      at: new Date().toISOString(),
      passed,
      ...(result.interrupted ? { failedStep: 'interrupted' } : failed ? { failedStep: failed.step } : {}),
      steps,
      intervalS: cfg.intervalS,
      graceS: cfg.graceS,
      ...(this.nextAt ? { next: new Date(this.nextAt).toISOString() } : {}),
    };
    // An interrupted test is not a fault (a visitor needed the line); the next test decides.
    if (!result.interrupted) {
      if (failed) ctx.faults.raise('test-failed', `${failed.step}: ${failed.detail}`);
      else ctx.faults.clear('test-failed');
    }
    ctx.bus.emit('supervision.test', verdict);
    return verdict;
  }

  private remember(): void {
    try {
      mkdirSync(path.dirname(this.stateFile()), { recursive: true });
      writeFileSync(this.stateFile(), JSON.stringify({ lastTestAt: new Date().toISOString() }));
    } catch {
      /* the storage step says so */
    }
  }

  private async localTests(testId: string, config: KioskConfig): Promise<SupervisionStep[]> {
    const ctx = this.ctx!;
    const cfg = this.cfg;
    const steps: SupervisionStep[] = [];
    const loop = await timed('acoustic-loop', () =>
      acousticLoop({ out: ctx.services.audioOut, mic: ctx.services.rawMicrophone, source: config.audio.input.source }),
    );
    steps.push(loop);
    // A loop that fails is the audio device's fault too (speaker or microphone); it clears when the loop works again.
    if (!loop.ok) {
      this.audioFaultRaised = true;
      ctx.faults.raise('audio', `acoustic loop: ${loop.detail}`);
    } else if (this.audioFaultRaised) {
      this.audioFaultRaised = false;
      ctx.faults.clear('audio');
    }
    const outputs = config.io.outputs as Record<string, unknown>;
    steps.push(await timed('lamps', () => lampReadBack(ctx.services.ioDriver, (o) => !!outputs[o])));
    const pulsing = Date.now() - this.lastPulseAt < config.io.doorPulseMs + 500;
    steps.push(await timed('relays', () => relayReadBack(ctx.services.ioDriver, !!outputs.doorRelay, pulsing)));
    steps.push(await timed('screen', async () => this.screenVerdict(config)));
    const storage = await timed('storage', () => storageProbe(ctx.store.dir, testId));
    steps.push(storage);
    ctx.store.problem('supervision', storage.ok ? undefined : `storage self-test: ${storage.detail}`);
    steps.push(
      await timed('clock', async () => {
        if (this.clockOffsetMs === undefined) return { ok: true, detail: config.hub ? 'not tested: no clock estimate from the hub yet' : 'not tested: no hub configured' };
        const off = Math.round(this.clockOffsetMs);
        return Math.abs(off) > cfg.clockMaxOffsetMs
          ? { ok: false, detail: `the kiosk clock differs from the hub's by ${off} ms (limit ${cfg.clockMaxOffsetMs})` }
          : { ok: true, detail: `${off} ms from the hub's clock` };
      }),
    );
    return steps;
  }

  private screenVerdict(config: KioskConfig): { ok: boolean; detail: string } {
    const s = this.cfg.screenHeartbeatS;
    if (!config.display.enabled) return { ok: true, detail: 'not tested: no screen configured' };
    if (s === 0) return { ok: true, detail: 'not tested: supervision.screenHeartbeatS is 0' };
    if (this.lastHeartbeat === undefined) {
      const up = Math.round((performance.now() - this.startedAt) / 1000);
      const limit = this.cfg.screenStartS;
      return limit && up >= limit ? { ok: false, detail: `no screen page has connected since start-up (${up} s ago)` } : { ok: true, detail: 'not tested: no screen page has connected since start-up' };
    }
    const ago = performance.now() - this.lastHeartbeat;
    return ago > s * 1000 ? { ok: false, detail: `no heartbeat from the screen page for ${Math.round(ago / 1000)} s` } : { ok: true, detail: `last heartbeat ${Math.round(ago)} ms ago` };
  }

  // --- faults outside tests ------------------------------------------------

  private clockRaisedAt?: number;

  private clock(offsetMs: number): void {
    this.clockOffsetMs = offsetMs;
    const max = this.cfg.clockMaxOffsetMs;
    if (Math.abs(offsetMs) > max) {
      // The hub link refines its estimate sample by sample: a fault already raised is raised again (a new
      // recorded event at the hub) only when the offset moved by 100 ms or more, not at every refinement.
      if (this.clockRaisedAt !== undefined && Math.abs(offsetMs - this.clockRaisedAt) < 100) return;
      this.clockRaisedAt = offsetMs;
      this.ctx!.faults.raise('clock', `the kiosk clock differs from the hub's by ${Math.round(offsetMs)} ms (limit ${max}); PA start times and records are off`);
    } else {
      this.clockRaisedAt = undefined;
      this.ctx!.faults.clear('clock');
    }
  }

  /**
   * A screen page that never connects (the kiosk browser did not start, or cannot reach the local interface) sends
   * no heartbeat to miss: without this, a kiosk dark since boot would look healthy. Checked once, screenStartS after
   * start-up; the first heartbeat clears the fault like any later one.
   */
  private watchScreenStart(): void {
    clearTimeout(this.screenStartTimer);
    const s = this.cfg.screenStartS;
    if (!s || this.lastHeartbeat !== undefined) return;
    this.screenStartTimer = setTimeout(() => {
      if (this.stopped || this.lastHeartbeat !== undefined || !this.ctx!.config().display.enabled) return;
      this.ctx!.faults.raise('screen', `no screen page has connected in the ${s} s since start-up (kiosk browser not started, or it cannot reach the kiosk)`);
    }, Math.max(0, s * 1000 - (performance.now() - this.startedAt)));
    this.screenStartTimer.unref();
  }

  /** A page that pinged and then fell silent: the screen fault (the kiosk browser unit restarts a hung page). */
  private watchScreen(): void {
    clearInterval(this.screenTimer);
    this.screenTimer = setInterval(() => {
      const s = this.cfg.screenHeartbeatS;
      if (!s || this.lastHeartbeat === undefined || !this.ctx!.config().display.enabled) return;
      const ago = performance.now() - this.lastHeartbeat;
      if (ago > s * 1000) this.ctx!.faults.raise('screen', `no heartbeat from the screen page for over ${s} s (page hung or closed)`);
    }, 1000);
    this.screenTimer.unref();
  }

  async reconfigure({ prev, next }: ConfigChange<KioskConfig, 'supervision'>): Promise<Reconfigured> {
    if (!this.ctx) return 'restart';
    const a = supervisionConfig(prev.supervision);
    const b = supervisionConfig(next.supervision);
    if (a.enabled !== b.enabled || a.intervalS !== b.intervalS || a.jitterS !== b.jitterS) this.schedule(true);
    if (a.screenStartS !== b.screenStartS) this.watchScreenStart(); // the same start-up instant, the new limit
    return 'applied';
  }

  busy(): string | undefined {
    return this.running ? 'a supervision test is running' : undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.screenTimer);
    clearTimeout(this.screenStartTimer);
    this.call?.end('kiosk stopping');
    for (const off of this.offs.splice(0)) off();
  }

  health() {
    return healthOf(!!this.ctx && !this.stopped);
  }
}
