// The kiosk controller: builds the capabilities, hands each one typed context
// and starts them in order, each in its own try/catch: a capability that
// cannot start (GPIO, audio, SIP, screen) becomes a fault and the rest, the
// hub link included, still starts, so the hub can hear about it. The order
// puts the emergency path first: buttons are armed before anything slow.
import path from 'node:path';
import { SetupWindow } from '../core/setup-window.js';
import { setupTrace, SETUP_TRACE_ENV } from '../core/setup-trace.js';
import { Bus } from '../core/bus.js';
import { createLogger, type Logger } from '../core/log.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import type { ConfigReply, KioskCapability, KioskContext } from '../core/context.js';
import type { CapabilityHealth } from '../core/capability.js';
import { KioskStore } from '../store/kiosk-store.js';
import { chooseStartConfig, type StartConfig } from './config-source.js';
import { ConfigTrialStore } from './config-trial.js';
import { ConfigApplier } from './reconfigure.js';
import type { IoDriver } from '../io/types.js';
import type { Io } from '../io/index.js';
import { Faults } from '../health/faults.js';
import { LocalServer, localToken, sendJson } from './local-server.js';
import type { DestinationStream } from 'pino';
import type { HubLink } from '../hublink/client.js';
import type { Intercom } from '../intercom/intercom.js';
import type { AudioEngine } from '../audio/engine.js';
import type { AudioOutput } from '../audio/types.js';
import type { Screen } from '../display/screen.js';
import { IoCapability } from '../io/capability.js';
import { AudioCapability } from '../audio/capability.js';
import { IntercomCapability } from '../intercom/capability.js';
import { DisplayCapability } from '../display/capability.js';
import { HubLinkCapability } from '../hublink/capability.js';
import { AlarmCapability } from '../alarm/capability.js';
import type { AlarmController } from '../alarm/controller.js';
import { addTestSeams } from './test-seams.js';
import { readBootId, runRebootCommand } from './reboot.js';
import { SupervisionCapability } from '../supervision/capability.js';

/** Events kept in the event log and sent to the hub. */
const RECORDED = /^(alarm\.(state|refused|error)$|button\.|call\.|relay\.pulse|input\.(tamper|door|power|reset)|fault\.|pa\.(started|ended|missed)|config\.(applied|healthy|rollback)|sip\.(registration|dropped|tls)|audio\.fault|chat\.(toDesk|fromDesk)|desk\.info|screen\.language|incident\.mode|drill\.mode|capability\.|supervision\.test$)/;

export interface KioskOptions {
  config: KioskConfig;
  /** folder of the config file: relative paths in the config resolve here */
  configDir: string;
  /** overrides config.local.port (tests use 0) */
  localPort?: number;
  logDestination?: DestinationStream;
  /** tests inject a driver built on a fake GPIO class or mock Firmata */
  driver?: IoDriver;
  /** the buttons are armed (the io capability started, or failed and its fault is raised): systemd READY=1 */
  onArmed?: () => void;
  /**
   * A config change needs a restart and no call is in progress: the program
   * that runs the kiosk stops it and exits with RESTART_EXIT_CODE so its
   * supervisor starts it again on the persisted config. Without it the kiosk
   * logs that it needs a restart and runs on.
   */
  onRestart?: (reason: string) => Promise<void> | void;
}

export class Kiosk {
  readonly bus: Bus;
  readonly log: Logger;
  readonly store: KioskStore;
  config: KioskConfig;
  faults!: Faults;
  readonly local: LocalServer;
  localPort = 0;
  readonly ctx: KioskContext;
  private readonly ioCap: IoCapability;
  private readonly alarmCap = new AlarmCapability();
  private readonly audioCap = new AudioCapability();
  private readonly intercomCap = new IntercomCapability();
  private readonly displayCap = new DisplayCapability();
  private readonly hubCap = new HubLinkCapability();
  private readonly supervisionCap = new SupervisionCapability();
  /** start order: the emergency path first, the hub link last */
  readonly capabilities: KioskCapability[];
  private readonly started = Date.now();
  readonly trials: ConfigTrialStore;
  readonly applier: ConfigApplier;
  private readonly chosen: StartConfig;
  private restartTimer?: NodeJS.Timeout;
  /** why a restart is pending, once asked for */
  restartPending?: string;
  /** the kiosk's own file: device-local settings (system.rebootCommand) come from it, never from the hub */
  private readonly fileConfig: KioskConfig;
  /** the board's boot id (new at every boot): the hub sees a reboot it asked for done when it changes */
  readonly bootId = readBootId();
  /** a reboot command is running */
  private rebooting = false;

  constructor(private readonly opts: KioskOptions) {
    const fileConfig = opts.config;
    this.fileConfig = fileConfig;
    this.log = createLogger({ name: 'kiosk', id: fileConfig.id, level: fileConfig.log.level, destination: opts.logDestination });
    this.bus = new Bus((event, err) => this.log.error({ err, event }, 'event listener failed'));
    this.store = new KioskStore(path.resolve(fileConfig.dataDir.replaceAll('{id}', fileConfig.id)), fileConfig.id, this.log).open();
    this.trials = new ConfigTrialStore(this.store.dir, this.log);
    const chosen = chooseStartConfig(fileConfig, this.store, this.log, this.trials.trial);
    this.chosen = chosen;
    this.config = chosen.config;
    if (chosen.source !== 'file') this.log.info({ source: chosen.source, version: this.config.configVersion }, 'using stored config');
    this.local = new LocalServer(this.config.local.host);
    this.faults = new Faults(this.bus);
    // A disk that refuses writes, or a full outbox, is a fault (never a stop).
    this.store.onFault((detail) => (detail ? this.faults.raise('store', detail) : this.faults.clear('store')));
    this.ioCap = new IoCapability(opts.driver);
    this.capabilities = [this.ioCap, this.alarmCap, this.audioCap, this.intercomCap, this.displayCap, this.supervisionCap, this.hubCap];
    // While an alarm call is set up, the event journal's writes and the local interface's reply to
    // the press that started it wait (src/core/setup-window.ts). HELPPOINT_SETUP_WINDOW=off leaves them as they were (the benchmark's A/B comparison).
    const setup = new SetupWindow();
    if (process.env.HELPPOINT_SETUP_WINDOW !== 'off') {
      this.store.journal.deferDuring(setup);
      this.local.deferRepliesDuring(setup);
    }
    this.ctx = {
      bus: this.bus,
      log: this.log,
      config: () => this.config,
      configDir: opts.configDir,
      store: this.store,
      faults: this.faults,
      local: this.local,
      services: { setup },
      applyConfig: (version, doc) => this.reconfigure(version, doc),
      restart: (by) => this.restartAskedBy(by),
      reboot: (by) => this.rebootAskedBy(by),
      status: () => {
        const h = this.health();
        return {
          id: this.config.id,
          configVersion: this.config.configVersion,
          faults: h.faults,
          outbox: h.outbox,
          capabilities: ['io', ...(this.ctx.services.hubCapabilities?.() ?? [])],
          ...(this.bootId ? { bootId: this.bootId } : {}),
        };
      },
    };
    this.applier = new ConfigApplier({
      bus: this.bus,
      log: this.log,
      store: this.store,
      trials: this.trials,
      capabilities: this.capabilities,
      fileConfig,
      configDir: opts.configDir,
      config: () => this.config,
      setConfig: (c) => (this.config = c),
      probe: {
        faults: () => this.faults.list(),
        capabilities: () => this.health().capabilities,
        registrarsConfigured: () => this.config.sip.account.registrars.length > 0,
      },
      restart: (reason) => this.requestRestart(reason),
    });
    queueMicrotask(() => this.bus.emit('config.applied', { version: this.config.configVersion, source: chosen.source }));
  }

  get io(): Io | undefined {
    return this.ioCap.io;
  }
  get driver(): IoDriver | undefined {
    return this.ioCap.io?.driver;
  }
  get audio(): AudioEngine | undefined {
    return this.audioCap.engine;
  }
  get audioOut(): AudioOutput | undefined {
    return this.ctx.services.audioOut;
  }
  get intercom(): Intercom | undefined {
    return this.intercomCap.intercom;
  }
  get screen(): Screen | undefined {
    return this.displayCap.screen;
  }
  get hubLink(): HubLink | undefined {
    return this.hubCap.link;
  }
  get alarm(): AlarmController | undefined {
    return this.alarmCap.controller;
  }

  async start(): Promise<void> {
    const { bus } = this;
    bus.onAny(({ event, payload }) => {
      if (!RECORDED.test(event)) return;
      this.store.record(event, payload);
      this.hubCap.flush();
    });
    // Every event at debug level; its payload copied (bigints as text) only when debug lines are written: on the press's path otherwise.
    bus.onAny(({ event, payload }) => this.log.isLevelEnabled('debug') && this.log.debug({ event, payload: safe(payload) }, 'event'));
    if (setupTrace.enabled) {
      this.log.warn(`${SETUP_TRACE_ENV}=1: each call's set-up stages are logged (benchmark instrumentation)`);
      setupTrace.onCall((marks, gc, diag) => this.log.info({ marks, gc, ...diag }, 'call set-up trace'));
    }
    // Routes that act are open to local callers with the sim driver (addSimRoutes), else only with the local token.
    this.local.setToken(this.readLocalToken());
    this.local.route('GET', '/health', (_req, res) => sendJson(res, 200, this.health()));
    if (addTestSeams(this.local)) this.log.warn('test seams enabled (HELPPOINT_TEST_SEAMS=1): not for a real site');

    for (const cap of this.capabilities) {
      // The local interface listens once every capability before the hub link has added its routes.
      if (cap === this.hubCap) await this.listen();
      await this.startOne(cap);
      if (cap === this.ioCap) this.opts.onArmed?.();
    }
    // A config on trial resumes its health window; one that failed by stopping the kiosk is reported.
    this.applier.resume(this.chosen.rolledBack);
  }

  /** The local token (data folder, mode 0600); without it the routes that act stay closed (a fault says why). */
  private readLocalToken(): string | undefined {
    try {
      return localToken(this.store.dir);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'local token unavailable: routes that act are closed');
      this.faults.raise('config', `local token: ${(err as Error).message}`);
      return undefined;
    }
  }

  /** Starts one capability; a failure is a log line, an event and a fault, never a stop. */
  private async startOne(cap: KioskCapability): Promise<void> {
    try {
      await cap.start(this.ctx);
    } catch (err) {
      const reason = (err as Error).message;
      this.log.error({ err, capability: cap.name }, 'capability could not start');
      this.bus.emit('capability.failed', { name: cap.name, reason });
      this.faults.raise(cap.fault, reason);
    }
  }

  private async listen(): Promise<void> {
    this.localPort = await this.local.listen(this.opts.localPort ?? this.config.local.port);
    this.log.info({ local: `http://${this.config.local.host}:${this.localPort}/`, readyMs: Date.now() - this.started }, 'ready');
  }

  /** A config from the hub: see src/kiosk/reconfigure.ts. */
  reconfigure(version: number, doc: unknown): Promise<ConfigReply> {
    return this.applier.receive(version, doc);
  }

  /**
   * The hub's kiosk.restart (ctx.restart): refused while a capability is busy
   * (a call, a test) or an alarm is open (its re-sends would pause), and when
   * nothing would start the kiosk again; otherwise recorded at once (the
   * journal outlives the process) and done once the answer has left.
   */
  private restartAskedBy(by: string): string | undefined {
    const why = this.interruptionRefused() ?? (this.opts.onRestart ? undefined : 'no supervisor can start this kiosk again');
    if (why) {
      this.log.warn({ by, why }, 'restart from the hub refused');
      return why;
    }
    this.store.recordSync('kiosk.restart', { by });
    this.requestRestart(`asked by ${by}`);
    return undefined;
  }

  /** Why the kiosk must not be restarted or rebooted now: a call, a page, a test (capabilities), an open alarm. */
  private interruptionRefused(): string | undefined {
    return this.capabilities.map((c) => c.busy?.()).find(Boolean) ?? (this.alarm?.isOpen() ? 'an alarm is open' : undefined);
  }

  /**
   * The hub's kiosk.reboot (ctx.reboot). Refused, as a restart, while an
   * interruption would cut something off, and where the kiosk's own file
   * allows no reboot. Otherwise recorded and flushed to disk first (the
   * journal's boot number and the outbox survive the reboot: nothing
   * accepted is lost), checked once more, then handed to the system. A
   * refusal or a failing command is an event and a log line; the kiosk runs on.
   */
  private async rebootAskedBy(by: string): Promise<string | undefined> {
    const refuse = (reason: string) => {
      this.log.warn({ by, why: reason }, 'reboot from the hub refused');
      this.store.record('kiosk.reboot.refused', { by, reason });
      this.hubCap.flush();
      return `reboot refused: ${reason}`;
    };
    const fail = (error: string) => {
      this.log.error({ by, err: error }, 'reboot from the hub failed; running on');
      this.store.record('kiosk.reboot.failed', { by, error });
      this.hubCap.flush();
      return `reboot command failed: ${error}`;
    };
    const argv = this.fileConfig.system?.rebootCommand ?? [];
    const why =
      (this.rebooting ? 'a reboot is already under way' : undefined) ??
      this.interruptionRefused() ??
      (argv.length ? undefined : 'this kiosk may not be rebooted from the hub (no system.rebootCommand in its file)');
    if (why) return refuse(why);
    this.rebooting = true;
    try {
      this.store.recordSync('kiosk.reboot', { by, command: argv });
      this.hubCap.flush();
      if (!(await this.store.settled())) return fail('the store could not write to disk: nothing was handed to the system');
      // The flush took a moment: a press meanwhile wins.
      const now = this.interruptionRefused();
      if (now) return refuse(now);
      this.log.warn({ by, command: argv }, 'rebooting the board, asked from the hub');
      const failed = await runRebootCommand(argv);
      return failed ? fail(failed) : undefined;
    } finally {
      this.rebooting = false;
    }
  }

  /**
   * Restarts cleanly to apply sections that cannot change live, once no
   * capability is busy (no call in progress): the config is already
   * persisted, so the kiosk comes back on it and its health window resumes.
   */
  private requestRestart(reason: string): void {
    if (this.restartPending) return;
    this.restartPending = reason;
    this.log.warn({ reason }, 'restart needed; restarting once no call is in progress');
    const attempt = async () => {
      const busy = this.capabilities.map((c) => c.busy?.()).find(Boolean);
      if (busy) {
        this.restartTimer = setTimeout(() => void attempt(), 500);
        return;
      }
      await this.applier.plan('restart');
      if (!this.opts.onRestart) {
        this.log.error({ reason }, 'restart needed but no supervisor can restart this kiosk; running on');
        return;
      }
      this.log.warn({ reason }, 'restarting');
      await this.opts.onRestart(reason);
    };
    // A moment first, so the acknowledgement of the config leaves before the link closes.
    this.restartTimer = setTimeout(() => void attempt(), 200);
  }

  health() {
    const capabilities: Record<string, CapabilityHealth> = {};
    for (const cap of this.capabilities) capabilities[cap.name] = cap.health();
    return {
      id: this.config.id,
      site: this.config.site.id,
      zone: this.config.zone,
      configVersion: this.config.configVersion,
      targets: this.config.sip.targets.emergency.map((t) => t.uri),
      driver: this.driver?.kind,
      faults: this.faults.list(),
      outbox: this.store.pendingCount(),
      sipPort: this.intercom?.localPort,
      call: this.intercom?.activeCall(),
      alarm: this.alarmCap.controller?.current() ?? null,
      capabilities,
      uptimeS: Math.round((Date.now() - this.started) / 1000),
      bootId: this.bootId,
    };
  }

  async stop(): Promise<void> {
    clearTimeout(this.restartTimer);
    // what waited for an alarm call's set-up (its log lines, the journal's batch) goes now
    this.ctx.services.setup?.drain();
    // A config on trial resumes its health window at the next start (a clean stop is not its fault).
    await this.applier.plan('stop');
    // Reverse order: the hub link first, the buttons last.
    for (const cap of [...this.capabilities].reverse()) {
      if (cap === this.ioCap) await this.local.close();
      try {
        await cap.stop();
      } catch (err) {
        this.log.warn({ err, capability: cap.name }, 'capability did not stop cleanly');
      }
    }
    await this.store.close();
  }
}

function safe(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)) ?? 'null');
}
