// The hub's Prometheus metrics (prom-client, text format at GET /metrics).
//
// Two kinds, so several hub instances never double count:
//  - fleet figures (helppoint_fleet_*): read from the shared database at
//    scrape time; every instance reports the same value. Aggregate them with
//    max() (or scrape one instance through the load balancer), never sum().
//  - this instance's own (helppoint_hub_*): counters and histograms of what
//    happened here (events a kiosk sent arrive on exactly one instance), and
//    the process's own figures; these sum across instances.
import client from 'prom-client';
import type { HubContext } from '../context.js';
import type { IncomingEvent } from '../storage/storage.js';
import type { SupervisionService } from './service.js';

/** Time to answer buckets, seconds (a desk should answer by about the third ring: 15 s). */
const ANSWER_BUCKETS = [1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 300];
const PASS_WINDOW_MS = 24 * 3600 * 1000;

export class HubMetrics {
  readonly registry = new client.Registry();
  private readonly answered = new Set<string>();
  private readonly answerSeconds: client.Histogram<'category'>;

  constructor(
    hub: HubContext,
    sv: SupervisionService,
  ) {
    const r = this.registry;
    r.setDefaultLabels({ instance_id: hub.instanceId });
    client.collectDefaultMetrics({ register: r, prefix: 'helppoint_hub_' });
    const { storage } = hub;
    const db = storage.db;
    new client.Gauge({
      name: 'helppoint_fleet_kiosks',
      help: 'kiosks by link state (fleet-wide, from the database; the same on every hub instance: use max())',
      labelNames: ['state'],
      registers: [r],
      async collect() {
        const row = (
          await db.query<{ total: string | number; online: string | number; revoked: string | number }>(
            `select count(*) filter (where revoked_at is null) as total,
                    count(*) filter (where revoked_at is null and instance_id is not null and last_seen > now() - $1::int * interval '1 millisecond') as online,
                    count(*) filter (where revoked_at is not null) as revoked from kiosks`,
            [hub.offlineAfterMs],
          )
        )[0]!;
        this.set({ state: 'online' }, Number(row.online));
        this.set({ state: 'offline' }, Number(row.total) - Number(row.online));
        this.set({ state: 'revoked' }, Number(row.revoked));
      },
    });
    new client.Gauge({
      name: 'helppoint_fleet_alarms_open',
      help: 'alarms not reset, by state and category (fleet-wide, from the database: use max())',
      labelNames: ['state', 'category'],
      registers: [r],
      async collect() {
        this.reset();
        const rows = await db.query<{ state: string; category: string | null; n: string | number }>(`select state, category, count(*) as n from alarms where state <> 'reset' group by state, category`);
        for (const x of rows) this.set({ state: x.state, category: x.category ?? 'none' }, Number(x.n));
      },
    });
    new client.Gauge({
      name: 'helppoint_fleet_faults_open',
      help: 'open faults by code (fleet-wide: the kiosks\' reported faults, and hub-link for kiosks the hub does not hear; use max())',
      labelNames: ['code'],
      registers: [r],
      collect: async function (this: client.Gauge<'code'>) {
        this.reset();
        const counts = new Map<string, number>();
        for (const f of await sv.faults()) counts.set(f.code, (counts.get(f.code) ?? 0) + 1);
        for (const [code, n] of counts) this.set({ code }, n);
      },
    });
    new client.Gauge({
      name: 'helppoint_fleet_tests_24h',
      help: 'test calls finished in the last 24 h, by result (fleet-wide: use max())',
      labelNames: ['result'],
      registers: [r],
      async collect() {
        const p = await storage.supervision.passRate(Date.now() - PASS_WINDOW_MS);
        this.set({ result: 'passed' }, p.passed);
        this.set({ result: 'failed' }, p.total - p.passed);
      },
    });
    new client.Gauge({
      name: 'helppoint_fleet_test_pass_ratio',
      help: 'share of the test calls of the last 24 h that passed (NaN without tests; fleet-wide: use max())',
      registers: [r],
      async collect() {
        const p = await storage.supervision.passRate(Date.now() - PASS_WINDOW_MS);
        this.set(p.total ? p.passed / p.total : NaN);
      },
    });
    new client.Gauge({
      name: 'helppoint_fleet_tests_overdue',
      help: 'kiosks with an open "test overdue" alarm (fleet-wide: use max())',
      registers: [r],
      async collect() {
        this.set((await storage.supervision.openOverdue()).size);
      },
    });
    new client.Gauge({
      name: 'helppoint_fleet_pa_receipts',
      help: 'PA receipts of the last 24 h by state (pending, delivered, started, finished, stopped, failed; fleet-wide: use max())',
      labelNames: ['state'],
      registers: [r],
      async collect() {
        this.reset();
        const rows = await db.query<{ state: string; n: string | number }>(`select state, count(*) as n from pa_receipts where updated_at > now() - interval '1 day' group by state`);
        for (const x of rows) this.set({ state: x.state }, Number(x.n));
      },
    });
    this.answerSeconds = new client.Histogram({
      name: 'helppoint_hub_alarm_answer_seconds',
      help: 'time to answer an alarm: from raised to the first talking or acknowledged (kiosk times), observed by the instance that received the event (sum across instances)',
      labelNames: ['category'],
      buckets: ANSWER_BUCKETS,
      registers: [r],
    });
    const answerer = () => sv.answerer?.stats;
    new client.Gauge({
      name: 'helppoint_hub_test_answerer_calls',
      help: 'test answerer calls on this instance: active now, and the most at once since start',
      labelNames: ['kind'],
      registers: [r],
      collect() {
        const s = answerer();
        this.set({ kind: 'active' }, s?.active ?? 0);
        this.set({ kind: 'max' }, s?.maxActive ?? 0);
      },
    });
    new client.Counter({
      name: 'helppoint_hub_test_answerer_calls_total',
      help: 'test answerer calls on this instance since start, by outcome (answered, refused: should stay 0, not_test: no or bad X-Helppoint-Test, tone_heard, dtmf_received)',
      labelNames: ['outcome'],
      registers: [r],
      collect() {
        const s = answerer();
        this.reset();
        this.inc({ outcome: 'answered' }, s?.answered ?? 0);
        this.inc({ outcome: 'refused' }, s?.refused ?? 0);
        this.inc({ outcome: 'not_test' }, s?.notTest ?? 0);
        this.inc({ outcome: 'tone_heard' }, s?.toneHeard ?? 0);
        this.inc({ outcome: 'dtmf_received' }, s?.dtmfReceived ?? 0);
      },
    });
    new client.Gauge({
      name: 'helppoint_hub_kiosks_connected',
      help: 'kiosk sockets held by this instance (sum across instances = kiosks connected)',
      registers: [r],
      collect() {
        let n = 0;
        for (const k of hub.link.localView().values()) if (k.online) n++;
        this.set(n);
      },
    });
    hub.link.watch({ events: (_kiosk, events) => this.onEvents(events) });
  }

  /** Alarm transitions: the first talking/acknowledged of an alarm observes its time to answer. */
  private onEvents(events: IncomingEvent[]): void {
    for (const e of events) {
      if (e.type !== 'alarm.state') continue;
      const d = (e.data ?? {}) as { alarmId?: string; state?: string; raisedAt?: string; at?: string; category?: string };
      if ((d.state !== 'talking' && d.state !== 'acknowledged') || !d.alarmId || this.answered.has(d.alarmId)) continue;
      const s = (Date.parse(d.at ?? '') - Date.parse(d.raisedAt ?? '')) / 1000;
      if (!Number.isFinite(s) || s < 0) continue;
      this.answered.add(d.alarmId);
      if (this.answered.size > 10_000) this.answered.delete(this.answered.values().next().value!);
      this.answerSeconds.observe({ category: d.category ?? 'none' }, s);
    }
  }

  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
