// liveconfig: how fast one kiosk (the compiled CLI, as on a device) takes a
// config from the hub, measured at the hub (a protocol-level hub in this
// process, on loopback): push -> config-ack for a live change (the audio
// volume), push -> registered with a new SIP registrar (a new user agent,
// a second Kamailio), and push -> hello on the new version for a change that
// needs a restart (ack, clean stop, exit 75, new process, reconnect), next
// to the same kiosk's cold start to hello in the same run. These
// are the kiosk's part of a staged rollout's time; the health window
// (hub.configHealthWindowS) comes on top and is not measured.
import path from 'node:path';
import { start } from '../src/testbed/proc.js';
import { startKamailio } from '../src/testbed/kamailio.js';
import { RESTART_EXIT_CODE } from '../src/core/exit-codes.js';
import { kioskConfigFile, REPO } from '../test/helpers/processes.js';
import { FakeHub } from '../test/helpers/fake-hub.js';
import { until } from '../test/helpers/tmp.js';
import { median } from './stats.js';
import type { Report } from './run.js';

const TOKEN = 'bench-liveconfig-token-0001';
const KIOSK = 'conc-north';

export async function run(report: Report): Promise<void> {
  const cli = path.join(REPO, 'dist/src/cli.js');
  const hub = await FakeHub.start({ [TOKEN]: KIOSK });
  const users = { [KIOSK]: 'kiosk-secret' };
  const a = await startKamailio({ users });
  const b = await startKamailio({ users });
  const registrar = (port: number) => [{ uri: `sip:127.0.0.1:${port}`, transport: 'udp' }];
  try {
    const c = kioskConfigFile({
      log: { level: 'warn' },
      hub: { url: hub.url, token: TOKEN, heartbeatS: 5, configHealthWindowS: 1 },
      sip: { account: { user: KIOSK, password: 'kiosk-secret', domain: '127.0.0.1', registrars: registrar(a.port) } },
    });
    const tStart = performance.now();
    const proc = start('kiosk', process.execPath, [cli, 'kiosk', '--config', c.file], { cwd: REPO, restartExitCode: RESTART_EXIT_CODE });
    await until(() => hub.online(KIOSK), 30_000, 'kiosk online');
    const coldStart = performance.now() - tStart;
    const doc = (changes: (d: any) => void) => {
      const d = structuredClone(c.config) as any;
      delete d.$schema;
      changes(d);
      return d as Record<string, unknown>;
    };
    let version = 0;

    // 1. a live change: push -> ack
    const live: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const r = await hub.pushAndWait(KIOSK, ++version, doc((d) => (d.audio.volume = i % 2 ? 0.5 : 0.6)));
      live.push(performance.now() - t0);
      if (r.type !== 'config-ack') throw new Error(JSON.stringify(r));
    }
    report('config_ack_live_ms', median(live), 'ms', `push -> config-ack, audio volume changed live; median of ${live.length}`);

    // 2. a new registrar: push -> registered with it (sip.registration event at the hub)
    const sip: number[] = [];
    for (let i = 0; i < 6; i++) {
      const port = i % 2 ? a.port : b.port;
      const since = hub.events.length;
      const t0 = performance.now();
      await hub.pushAndWait(KIOSK, ++version, doc((d) => (d.sip.account.registrars = registrar(port))));
      await until(() => hub.events.slice(since).some((e) => e.type === 'sip.registration' && e.data.registered && e.data.registrar.endsWith(`:${port}`)), 15_000, 'registered');
      sip.push(performance.now() - t0);
    }
    report('registrar_switch_ms', median(sip), 'ms', `push -> registered with the new registrar (new user agent, digest auth, event delivered to the hub); median of ${sip.length}`);

    // 3. a change that needs a restart: push -> hello with the new version
    const restart: number[] = [];
    for (let i = 0; i < 5; i++) {
      const v = ++version;
      const t0 = performance.now();
      hub.push(KIOSK, v, doc((d) => (d.io.inputs.emergency.pin = i % 2 ? 17 : 16)));
      await until(() => hub.hellos(KIOSK).some((h) => h.configVersion === v), 30_000, 'back on the new version');
      restart.push(performance.now() - t0);
    }
    report('config_restart_ms', median(restart), 'ms', `push -> hello on the new version after a self-restart (io pin map); median of ${restart.length}; restarts seen: ${proc.restarts}`);
    // the same kiosk's first start, same run, same load: most of a restart is this
    report('cold_start_hello_ms', coldStart, 'ms', 'process start -> hello at the hub, the first start of the kiosk above (one sample), for comparison with config_restart_ms');
    await proc.stop();
  } finally {
    await hub.stop();
    await a.stop();
    await b.stop();
  }
}
