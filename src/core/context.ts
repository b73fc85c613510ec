// The one typed context every kiosk capability receives at start. It carries
// what the kiosk provides to all of them (bus, log, live config, store, faults,
// the local interface) and the shared services capabilities offer each other
// (the mixer, the microphone, the intercom), filled in start order. Types only:
// a capability depends on this contract, never on the program that assembles it.
import type { Bus } from './bus.js';
import type { Logger } from './log.js';
import type { Capability } from './capability.js';
import type { KioskEvents } from './events.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import type { KioskStore } from '../store/kiosk-store.js';
import type { Faults } from '../health/faults.js';
import type { FaultCode } from '../health/events.js';
import type { LocalServer } from '../kiosk/local-server.js';
import type { AudioInput, AudioOutput } from '../audio/types.js';
import type { AlarmHooks, CallService } from '../intercom/alarm-call.js';
import type { AlarmService } from '../alarm/service.js';
import type { IoDriver } from '../io/types.js';
import type { SupervisionService } from '../supervision/capability.js';
import type { SetupWindow } from './setup-window.js';

export interface ConfigError {
  path: string;
  message: string;
}

export interface KioskServices {
  /** the shared audio output (mixer): the intercom and PA write to it */
  audioOut?: AudioOutput;
  /** the microphone (or its file/silence stand-in) */
  microphone?: AudioInput;
  /** the microphone before the hands-free processing (the acoustic loop self-test listens here) */
  rawMicrophone?: AudioInput;
  /** the GPIO driver (lamp and relay read-back) */
  ioDriver?: IoDriver;
  /** what the kiosk tells the hub it can do, beyond the basics (hello capabilities, e.g. "pa-unicast:5004") */
  hubCapabilities?: () => string[];
  /** the intercom's narrow interface for alarm calls (set once SIP is up) */
  calls?: CallService;
  /** the alarm controller (set right after io starts): what the intercom and the hub link ask of it */
  alarm?: AlarmHooks & AlarmService;
  /** supervision: runs a test on demand (the hub command supervision.test) */
  supervision?: SupervisionService;
  /** an alarm call's set-up window: the intercom opens it, deferrable work (the event journal's writes) waits for it */
  setup?: SetupWindow;
}

export interface KioskContext {
  bus: Bus;
  log: Logger;
  /** the config now; read it when acting, it changes live */
  config: () => KioskConfig;
  /** folder of the config file: relative paths in the config resolve here */
  configDir: string;
  store: KioskStore;
  faults: Faults;
  /** the 127.0.0.1 interface: capabilities add their routes before it listens */
  local: LocalServer;
  services: KioskServices;
  /** validates, persists and applies a config from the hub; what happened (src/kiosk/reconfigure.ts) */
  applyConfig(version: number, doc: unknown): Promise<ConfigReply>;
  /**
   * A restart asked from outside (the hub's kiosk.restart): refused with the
   * reason while a call, a test or an alarm is open, or when no supervisor
   * can start the kiosk again; otherwise recorded (event kiosk.restart) and
   * done in a moment, after the answer has left. Undefined = accepted.
   */
  restart(by: string): string | undefined;
  /**
   * A reboot of the board asked from outside (the hub's kiosk.reboot): refused
   * like a restart (a call, a page, a test or an alarm open) and where the
   * kiosk's own file sets no `system.rebootCommand`; otherwise recorded (event
   * kiosk.reboot), the store flushed, and the command run. Undefined once the
   * command exited 0 (the system has the reboot), else the reason
   * (`reboot refused: ...`, `reboot command failed: ...`).
   */
  reboot(by: string): Promise<string | undefined>;
  /** what the kiosk tells the hub about itself */
  status(): { id: string; configVersion: number; faults: { code: string; detail: string }[]; outbox: number; capabilities?: string[]; bootId?: string };
}

/** The top-level sections of a kiosk config; a capability lists those it reads. */
export type ConfigSection = keyof KioskConfig & string;

/** What the kiosk answers to a pushed config (the hub link turns it into config-ack / config-nack). */
export type ConfigReply =
  | {
      ok: true;
      /** sections applied live now */
      live: ConfigSection[];
      /** sections applied live once the call in progress ends */
      deferred: ConfigSection[];
      /** sections that need a restart: the kiosk restarts itself (once idle) */
      restart: ConfigSection[];
      /** the same version and document were already here: acknowledged again, nothing done */
      repeat?: boolean;
      /** the config becomes last-known-good after this many healthy seconds */
      healthWindowS: number;
    }
  | {
      ok: false;
      /** invalid: schema or cross-checks; conflict: this version is here with another document; stale: older than the running one;
       *  rolled-back: this version failed its health window here; wrong-kiosk; apply-failed: a capability could not take it (rolled back) */
      code: 'invalid' | 'conflict' | 'stale' | 'rolled-back' | 'wrong-kiosk' | 'apply-failed';
      errors: ConfigError[];
    };

export interface KioskCapability extends Capability<KioskContext, keyof KioskEvents & string, ConfigSection, KioskConfig> {
  /** the fault raised when the capability cannot start */
  readonly fault: FaultCode;
}
