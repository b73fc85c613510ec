// `helppoint demo`: a whole site on one machine. The hub, every kiosk of the
// example site on the sim driver, a desk (baresip answering calls) and the
// SIP server for browser desks (Kamailio + rtpengine) run as separate
// processes, exactly as they would on separate boxes.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadHubConfig, loadKioskConfig } from '../config/load.js';
import { start, stopAll, type Managed } from '../testbed/proc.js';
import { startBaresip } from '../testbed/baresip.js';
import { startKamailio } from '../testbed/kamailio.js';
import { startRtpengine } from '../testbed/rtpengine.js';
import { which } from '../testbed/tools.js';
import { RESTART_EXIT_CODE } from '../core/exit-codes.js';
import type { HubConfig } from '../config/schema/hub.js';
import { deskGroups } from '../hub/desk/groups.js';

/**
 * The demo's SIP server for browser desks: fixed ports so the printed URLs
 * stay the same (the example kiosks' sip.deskServer and the hub's desk.sip
 * name them). Its accounts and desk groups are the hub's console desks: the
 * example kiosks ring group:control-room first, the baresip desk last.
 */
export const DEMO_SIP = { port: 5062, wsPort: 8088 };

async function startSipServer(say: (s: string) => void, desk: HubConfig['desk']): Promise<void> {
  if (!which('kamailio') || !which('rtpengine')) {
    say('SIP server     NOT STARTED: Kamailio or rtpengine is not installed (bash scripts/install-system.sh)');
    return;
  }
  try {
    // rtpengine first: Kamailio disables an rtpengine that does not answer its first ping.
    const rtpengine = await startRtpengine();
    const users = Object.fromEntries((desk?.desks ?? []).map((d) => [d.id, d.password]));
    const groups = deskGroups(desk);
    await startKamailio({ users, groups, port: DEMO_SIP.port, wsPort: DEMO_SIP.wsPort, rtpengine, rpcToken: desk?.sip.rpc?.token });
    say(`SIP server     ws://127.0.0.1:${DEMO_SIP.wsPort}/   (Kamailio + rtpengine for browser desks; desks ${Object.keys(users).join(', ')}; groups ${Object.entries(groups).map(([g, m]) => `${g} = ${m.join(' + ')}`).join('; ') || 'none'})`);
    say('dispatch desk  http://127.0.0.1:8080/desk   (log in as dispatcher or admin: the alarm board and the browser phone; the kiosks ring the logged-in desks first, the baresip desk last)');
  } catch (err) {
    say(`SIP server     NOT STARTED: ${(err as Error).message.split('\n')[0]}`);
  }
}

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = [path.resolve(here, '../..'), path.resolve(here, '../../..')].find((p) => p.endsWith(path.sep + 'dist') === false)!;

function cli(name: string, args: string[]): Managed {
  // Same runtime as this process (node with tsx in development, compiled JS otherwise).
  // A kiosk applying a config that needs a restart exits with RESTART_EXIT_CODE: start it again, like systemd.
  return start(name, process.execPath, [...process.execArgv, process.argv[1]!, ...args], { stdio: ['ignore', 'pipe', 'pipe'], restartExitCode: RESTART_EXIT_CODE });
}

export async function runDemo(opts: { siteDir?: string }): Promise<number> {
  const siteDir = path.resolve(opts.siteDir ?? path.join(repo, 'config/example-site'));
  const hubFile = path.join(siteDir, 'hub.json');
  const { config: hub } = loadHubConfig(hubFile);
  const kiosks = hub.kiosks.filter((k) => k.config).map((k) => path.resolve(siteDir, k.config!));
  const say = (s: string) => process.stdout.write(s + '\n');
  const stop = async () => {
    say('stopping the demo ...');
    await stopAll();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  const hubProc = cli('hub', ['hub', '--config', hubFile]);
  await hubProc.waitFor(/"msg":"ready"/, 60_000); // the first start makes its database
  say(`hub console    http://${hub.listen.host}:${hub.listen.port}/   (demo users: admin/admin-demo, dispatcher/dispatcher-demo, facilities/facilities-demo)`);

  // The baresip desk answers the kiosks' calls nobody at a console desk takes: the kiosks' last SIP target.
  const first = loadKioskConfig(kiosks[0]!).config;
  const sipTargets = first.sip.targets.emergency.filter((t) => /^sips?:/.test(t.uri));
  const deskUri = new URL(sipTargets.at(-1)!.uri.replace(/^sip:/, 'sip://'));
  if (which('baresip')) {
    const desk = await startBaresip({ user: deskUri.username, sipPort: Number(deskUri.port || 5060) });
    say(`desk           ${desk.uri} (baresip, answers automatically)`);
  } else say('desk           NOT STARTED: baresip is not installed (bash scripts/install-system.sh)');

  await startSipServer(say, hub.desk);

  for (const file of kiosks) {
    const { config } = loadKioskConfig(file);
    const p = cli(config.id, ['kiosk', '--config', file]);
    p.child.stdout?.on('data', () => {}); // keep draining
    await p.waitFor(/"msg":"ready"/, 15_000);
    const base = `http://127.0.0.1:${config.local.port}`;
    say(`kiosk ${config.id.padEnd(13)} screen ${base}/   sim controls ${base}/sim   (${config.location.text.en})`);
  }
  say('\nThe demo runs until Ctrl-C.');
  await hubProc.exited;
  say('the hub exited; stopping the demo');
  await stopAll();
  return 1;
}
