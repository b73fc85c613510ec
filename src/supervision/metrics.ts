// The kiosk's Prometheus text endpoint (GET /metrics on the local interface).
// Idle cost: plain counters updated from bus events; prom-client and its
// default collectors (event-loop lag, RSS, ...) are loaded at the first scrape
// only, so a kiosk nobody scrapes never loads them.
import type { Bus } from '../core/bus.js';
import type { SupervisionTest } from './events.js';

interface Counts {
  faultsRaised: Map<string, number>;
  faultsActive: () => { code: string }[];
  media: { calls: number; sent: number; received: number; lost: number; lastLossRatio: number; lastJitterS: number };
  tests: Map<string, number>;
  lastTest?: SupervisionTest;
  lastPassedAt?: number;
}

export class KioskMetrics {
  private readonly c: Counts;
  private registry?: Promise<{ text: () => Promise<string>; contentType: string }>;

  constructor(bus: Bus, faults: () => { code: string }[]) {
    this.c = {
      faultsRaised: new Map(),
      faultsActive: faults,
      media: { calls: 0, sent: 0, received: 0, lost: 0, lastLossRatio: 0, lastJitterS: 0 },
      tests: new Map(),
    };
    bus.on('fault.raised', (e) => this.c.faultsRaised.set(e.code, (this.c.faultsRaised.get(e.code) ?? 0) + 1));
    bus.on('call.media', (e) => {
      const m = this.c.media;
      m.calls++;
      m.sent += e.packetsSent;
      m.received += e.packetsReceived;
      m.lost += Math.max(0, e.packetsLost);
      m.lastLossRatio = e.lossPct / 100;
      m.lastJitterS = e.jitterMs / 1000;
    });
    bus.on('supervision.test', (t) => {
      const result = t.passed ? 'passed' : t.failedStep === 'interrupted' ? 'interrupted' : 'failed';
      this.c.tests.set(result, (this.c.tests.get(result) ?? 0) + 1);
      this.c.lastTest = t;
      if (t.passed) this.c.lastPassedAt = Date.parse(t.at);
    });
  }

  /** The exposition text; the registry is built on the first call. */
  async render(): Promise<{ text: string; contentType: string }> {
    this.registry ??= this.build();
    const r = await this.registry;
    return { text: await r.text(), contentType: r.contentType };
  }

  private async build() {
    const prom = await import('prom-client');
    const register = new prom.Registry();
    // event-loop lag (nodejs_eventloop_lag_*), RSS (process_resident_memory_bytes), heap, handles ...
    prom.collectDefaultMetrics({ register, eventLoopMonitoringPrecision: 20 });
    const c = this.c;
    const gauge = (name: string, help: string, labelNames: string[], collect: (g: import('prom-client').Gauge) => void) =>
      new prom.Gauge({ name, help, labelNames, registers: [register], collect() { this.reset(); collect(this); } });
    new prom.Counter({
      name: 'helppoint_kiosk_call_media_packets_total',
      help: 'RTP packets of finished calls (test calls included), by direction; lost = missing sequence numbers',
      labelNames: ['direction'],
      registers: [register],
      collect() {
        this.reset();
        this.inc({ direction: 'sent' }, c.media.sent);
        this.inc({ direction: 'received' }, c.media.received);
        this.inc({ direction: 'lost' }, c.media.lost);
      },
    });
    new prom.Counter({ name: 'helppoint_kiosk_calls_with_media_total', help: 'finished calls that carried RTP', registers: [register], collect() { this.reset(); this.inc(c.media.calls); } });
    gauge('helppoint_kiosk_call_media_loss_ratio', 'packet loss of the last finished call (0..1)', [], (g) => g.set(c.media.lastLossRatio));
    gauge('helppoint_kiosk_call_media_jitter_seconds', 'interarrival jitter (RFC 3550) of the last finished call', [], (g) => g.set(c.media.lastJitterS));
    new prom.Counter({
      name: 'helppoint_kiosk_supervision_tests_total',
      help: 'supervision tests by result (passed, failed, interrupted by a real call)',
      labelNames: ['result'],
      registers: [register],
      collect() {
        this.reset();
        for (const r of ['passed', 'failed', 'interrupted']) this.inc({ result: r }, c.tests.get(r) ?? 0);
      },
    });
    gauge('helppoint_kiosk_supervision_last_test_passed', '1 when the last test passed, 0 when it failed; absent before the first test', [], (g) => {
      if (c.lastTest) g.set(c.lastTest.passed ? 1 : 0);
    });
    gauge('helppoint_kiosk_supervision_last_test_timestamp_seconds', 'when the last test ended (Unix time)', [], (g) => {
      if (c.lastTest) g.set(Date.parse(c.lastTest.at) / 1000);
    });
    gauge('helppoint_kiosk_supervision_last_pass_timestamp_seconds', 'when the last passed test ended (Unix time)', [], (g) => {
      if (c.lastPassedAt) g.set(c.lastPassedAt / 1000);
    });
    gauge('helppoint_kiosk_supervision_step_ok', 'each step of the last test: 1 ok, 0 failed', ['step'], (g) => {
      for (const s of c.lastTest?.steps ?? []) g.set({ step: s.step }, s.ok ? 1 : 0);
    });
    gauge('helppoint_kiosk_supervision_step_seconds', 'each step of the last test: how long it took', ['step'], (g) => {
      for (const s of c.lastTest?.steps ?? []) g.set({ step: s.step }, s.ms / 1000);
    });
    new prom.Counter({
      name: 'helppoint_kiosk_faults_raised_total',
      help: 'faults raised since start, by code',
      labelNames: ['code'],
      registers: [register],
      collect() {
        this.reset();
        for (const [code, n] of c.faultsRaised) this.inc({ code }, n);
      },
    });
    gauge('helppoint_kiosk_fault_active', 'faults active now, by code (1)', ['code'], (g) => {
      for (const f of c.faultsActive()) g.set({ code: f.code }, 1);
    });
    return { text: () => register.metrics(), contentType: register.contentType };
  }
}
