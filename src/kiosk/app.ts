// The kiosk controller: builds each capability from the config and wires them
// to one event bus. Start-up order puts the emergency path first: buttons are
// armed before anything that could be slow (hub link, screen).
import path from 'node:path';
import { Bus } from '../core/bus.js';
import { createLogger, type Logger } from '../core/log.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import { KioskStore } from '../store/kiosk-store.js';
import { chooseStartConfig } from './config-source.js';
import { startIo, type Io } from '../io/index.js';
import type { IoDriver } from '../io/types.js';
import { SimDriver } from '../io/sim-driver.js';
import { Faults } from '../health/faults.js';
import { LocalServer, addSimRoutes, localToken, sendJson } from './local-server.js';
import type { DestinationStream } from 'pino';
import { HubLink } from '../hublink/client.js';
import type { Intercom } from '../intercom/intercom.js';
import { AudioEngine } from '../audio/engine.js';
import { addPaRoutes } from '../audio/local-routes.js';
import type { AudioOutput } from '../audio/types.js';
import { attachScreen, type Screen } from '../display/screen.js';

/** Events kept in the event log and sent to the hub. */
const RECORDED = /^(button\.|call\.|relay\.pulse|input\.(tamper|door|power)|fault\.|pa\.(started|ended)|config\.applied|sip\.registration|audio\.fault|chat\.toDesk|incident\.mode|drill\.mode)/;

export interface KioskOptions {
  config: KioskConfig;
  /** folder of the config file: relative paths in the config resolve here */
  configDir: string;
  /** overrides config.local.port (tests use 0) */
  localPort?: number;
  logDestination?: DestinationStream;
}

export class Kiosk {
  readonly bus: Bus;
  readonly log: Logger;
  readonly store: KioskStore;
  config: KioskConfig;
  driver!: IoDriver;
  io!: Io;
  faults!: Faults;
  readonly local: LocalServer;
  localPort = 0;
  hubLink?: HubLink;
  intercom?: Intercom;
  audio?: AudioEngine;
  /** the shared audio output (mixer) for the intercom and PA */
  audioOut?: AudioOutput;
  screen?: Screen;
  private readonly started = Date.now();

  constructor(private readonly opts: KioskOptions) {
    const fileConfig = opts.config;
    this.log = createLogger({ name: 'kiosk', id: fileConfig.id, level: fileConfig.log.level, destination: opts.logDestination });
    this.bus = new Bus((event, err) => this.log.error({ err, event }, 'event listener failed'));
    this.store = new KioskStore(path.resolve(fileConfig.dataDir.replaceAll('{id}', fileConfig.id)), fileConfig.id, this.log).open();
    const chosen = chooseStartConfig(fileConfig, this.store, this.log);
    this.config = chosen.config;
    if (chosen.source !== 'file') this.log.info({ source: chosen.source, version: this.config.configVersion }, 'using stored config');
    this.local = new LocalServer(this.config.local.host);
    queueMicrotask(() => this.bus.emit('config.applied', { version: this.config.configVersion, source: chosen.source }));
  }

  async start(): Promise<void> {
    const { config, bus } = this;
    this.faults = new Faults(bus);
    bus.onAny(({ event, payload }) => {
      if (!RECORDED.test(event)) return;
      this.store.record(event, payload);
      this.hubLink?.flush();
    });
    bus.onAny(({ event, payload }) => this.log.debug({ event, payload: safe(payload) }, 'event'));

    // 1. Emergency path first: driver, inputs, lamps.
    this.io = await startIo({ bus, config: () => this.config, faults: this.faults, warn: (msg) => this.log.warn(msg) });
    this.driver = this.io.driver;
    this.log.info({ driver: this.driver.kind }, 'buttons armed');

    // 1b. Audio output: the mixer runs at once; the device is probed off-process
    // (a missing ALSA device must cost a fault, never the process).
    try {
      this.audio = new AudioEngine({ config, configDir: this.opts.configDir, dataDir: this.store.dir, bus, log: this.log });
      this.audioOut = this.audio.mixer;
      this.audio.start().catch((err: Error) => bus.emit('audio.fault', { active: true, reason: err.message }));
    } catch (err) {
      bus.emit('audio.fault', { active: true, reason: `audio engine: ${(err as Error).message}` });
    }

    // 1c. Intercom: SIP and RTP. A failure here is a fault to report, never a reason to stop the kiosk.
    try {
      const { Intercom } = await import('../intercom/intercom.js');
      const { createInput } = await import('../audio/input/index.js');
      const input = createInput(config.audio.input, 8000, (reason) => bus.emit('audio.fault', { active: true, reason }));
      if (config.pa.volume?.adaptive) {
        // Ambient noise for adaptive PA volume, measured while idle: the microphone runs all the time.
        this.audio?.attachMicrophone(input);
        void input.start();
      }
      this.intercom = new Intercom({ bus, log: this.log, config: () => this.config, input, output: this.audioOut });
      await this.intercom.start();
    } catch (err) {
      this.log.error({ err }, 'intercom could not start');
      this.faults.raise('sip-registration', `intercom: ${(err as Error).message}`);
    }

    // 2. Local interface: health, sim controls. Routes that act are open to
    // local callers with the sim driver, else only with the local token.
    this.local.setAccess({ sim: this.driver instanceof SimDriver, token: this.readLocalToken() });
    this.local.route('GET', '/health', (_req, res) => sendJson(res, 200, this.health()));
    if (this.audio) addPaRoutes(this.local, bus, this.audio);
    if (this.driver instanceof SimDriver) {
      const sim = this.driver;
      addSimRoutes(this.local, sim);
      sim.onOutput((output, on) => bus.emit('output.changed', { output, on }));
    }
    // The screen only listens and emits intents; the call path never awaits it.
    // A broken screen config must not stop the kiosk: it is logged and raised as a fault.
    if (config.display.enabled) {
      try {
        this.screen = attachScreen({ bus, log: this.log, config, configDir: this.opts.configDir, local: this.local, faults: this.faults });
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'screen not started');
        this.faults.raise('config', `screen: ${(err as Error).message}`);
      }
    }
    this.localPort = await this.local.listen(this.opts.localPort ?? config.local.port);
    this.log.info({ local: `http://${config.local.host}:${this.localPort}/`, readyMs: Date.now() - this.started }, 'ready');

    // 3. Hub link last: the kiosk is fully working without it.
    if (config.hub) {
      const h = this.health.bind(this);
      this.hubLink = new HubLink(
        config.hub,
        () => ({ id: config.id, configVersion: this.config.configVersion, faults: h().faults, outbox: h().outbox }),
        bus,
        this.log,
        this.store,
        (version, doc) => this.reconfigure(version, doc),
      );
      this.hubLink.start();
    }
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

  /**
   * A config from the hub: validated like a config file, persisted atomically,
   * then applied live (capabilities read `kiosk.config` when they act, so the
   * next call uses the new desks). Invalid: refused with every error; nothing changes.
   */
  async reconfigure(version: number, doc: unknown): Promise<{ path: string; message: string }[]> {
    const { validateKioskConfig } = await import('../config/validate.js');
    const v = validateKioskConfig({ ...(doc as object), configVersion: version });
    if (!v.ok) {
      this.log.warn({ version, errors: v.errors }, 'config from the hub refused');
      return v.errors;
    }
    if (v.value.id !== this.config.id) return [{ path: '/id', message: `config is for kiosk "${v.value.id}", this is "${this.config.id}"` }];
    if (v.value.configVersion <= this.config.configVersion) return []; // already applied: acknowledge again
    const previous = this.config;
    await this.store.saveConfig(v.value);
    this.config = v.value;
    this.log.info({ version, previous: previous.configVersion }, 'config applied from the hub');
    this.bus.emit('config.applied', { version, source: 'hub' });
    void this.store.markLastKnownGood(v.value);
    return [];
  }

  health() {
    return {
      id: this.config.id,
      site: this.config.site.id,
      zone: this.config.zone,
      configVersion: this.config.configVersion,
      targets: this.config.sip.targets.emergency.map((t) => t.uri),
      driver: this.driver?.kind,
      faults: this.faults?.list() ?? [],
      outbox: this.store.pending().length,
      sipPort: this.intercom?.localPort,
      call: this.intercom?.activeCall(),
      uptimeS: Math.round((Date.now() - this.started) / 1000),
    };
  }

  async stop(): Promise<void> {
    this.hubLink?.stop();
    await this.intercom?.stop();
    this.audio?.stop();
    this.screen?.close();
    await this.local.close();
    await this.io?.stop();
    await Promise.allSettled([this.store.events.write(), this.store.outbox.write()]);
  }
}

function safe(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)) ?? 'null');
}
