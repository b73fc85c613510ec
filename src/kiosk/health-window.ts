// The health window of a config on trial. It passes when, for the whole
// window, no new fault was raised and, at its end, SIP is registered where
// registrars are configured and every capability the change touched that ran
// before it still runs (the hub link touched by a new URL must be connected).
// It fails at once on a new fault, or at the end on a check that does not
// hold. Faults of the physical world (housing opened, mains lost, a button
// held) say nothing about a config and do not count; nor does a capability
// the change did not touch (a hub outage does not undo a volume change), nor
// one the new config switches off (state 'stopped').
import type { Bus } from '../core/bus.js';
import type { CapabilityHealth } from '../core/capability.js';
import type { Baseline } from './config-trial.js';

const PHYSICAL = new Set(['tamper', 'power', 'button-stuck']);

export interface HealthProbe {
  faults(): { code: string; detail: string }[];
  capabilities(): Record<string, CapabilityHealth>;
  /** SIP registrars configured now (then SIP must be registered) */
  registrarsConfigured(): boolean;
}

/** The state before a change: active faults, and the state of the capabilities it touches. */
export function baselineOf(probe: HealthProbe, touched: readonly string[]): Baseline {
  const caps = probe.capabilities();
  return {
    faults: probe.faults().map((f) => f.code),
    capabilities: Object.fromEntries(touched.filter((n) => caps[n]).map((n) => [n, caps[n]!.state])),
  };
}

export class HealthWindow {
  private timer?: NodeJS.Timeout;
  private off?: () => void;
  private done = false;

  constructor(
    private readonly o: {
      bus: Bus;
      probe: HealthProbe;
      baseline: Baseline;
      /** ms left of the window */
      ms: number;
      pass: () => void;
      fail: (reason: string) => void;
    },
  ) {}

  start(): void {
    const { bus, baseline } = this.o;
    const isNew = (code: string) => !PHYSICAL.has(code) && !baseline.faults.includes(code);
    // Faults already up (raised while the kiosk restarted onto this config) count too.
    const early = this.o.probe.faults().find((f) => isNew(f.code));
    if (early) return this.finish(`new fault ${early.code}: ${early.detail}`);
    this.off = bus.on('fault.raised', (f) => {
      if (isNew(f.code)) this.finish(`new fault ${f.code}: ${f.detail}`);
    });
    this.timer = setTimeout(() => this.finish(this.endCheck()), Math.max(0, this.o.ms));
  }

  /** Why the config is not healthy at the window's end, or undefined. */
  endCheck(): string | undefined {
    const { probe, baseline } = this.o;
    const caps = probe.capabilities();
    if (probe.registrarsConfigured() && caps.intercom?.state !== 'running') return `SIP not registered: ${caps.intercom?.detail ?? caps.intercom?.state ?? 'no intercom'}`;
    for (const [name, h] of Object.entries(caps)) {
      // 'stopped': switched off by the new config (no hub, no screen); a capability that could not run says 'failed' or 'degraded'
      if (baseline.capabilities[name] === 'running' && h.state !== 'running' && h.state !== 'stopped') return `${name} ${h.state}${h.detail ? `: ${h.detail}` : ''}`;
    }
    return undefined;
  }

  cancel(): void {
    this.done = true;
    clearTimeout(this.timer);
    this.off?.();
  }

  private finish(failure: string | undefined): void {
    if (this.done) return;
    this.cancel();
    if (failure) this.o.fail(failure);
    else this.o.pass();
  }
}
