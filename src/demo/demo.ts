// `helppoint demo`: a whole site on one machine. The hub, every kiosk of the
// example site on the sim driver, a desk (baresip answering calls) and the
// SIP server for browser desks (Kamailio + rtpengine) run as separate
// processes, exactly as they would on separate boxes.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
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
/** The PA console's SIP account at the demo's SIP server (a console types its own; the hub never holds it). */
const DEMO_PA_CONSOLE = { user: 'pa-console', password: 'pa-console-demo' };

/** Starts Kamailio + rtpengine with the hub's accounts; false when it could not (the hub then runs without its SIP endpoints). */
async function startSipServer(say: (s: string) => void, hub: HubConfig): Promise<boolean> {
  const { desk, supervision, pa } = hub;
  if (!which('kamailio') || !which('rtpengine')) {
    say('SIP server     NOT STARTED: Kamailio or rtpengine is not installed (bash scripts/install-system.sh)');
    return false;
  }
  try {
    // rtpengine first: Kamailio disables an rtpengine that does not answer its first ping.
    const rtpengine = await startRtpengine();
    // With desk.sip.rpc the hub sets each session's desk password here; until then a desk's account holds a value nobody knows.
    const users: Record<string, string> = Object.fromEntries((desk?.desks ?? []).map((d) => [d.id, desk?.sip.rpc ? randomBytes(18).toString('hex') : (d.password ?? '')]));
    // The hub's test answerer registers here too: the example kiosks' supervision.target calls it through this server.
    // So do its PA page gateway and the PA console's browser phone (live Talk).
    const answerer = supervision?.answerer?.account;
    if (answerer?.password) users[answerer.user] = answerer.password;
    const gateway = pa?.gateway?.account;
    if (gateway?.password) users[gateway.user] = gateway.password;
    if (gateway && pa?.browser?.user === DEMO_PA_CONSOLE.user) users[DEMO_PA_CONSOLE.user] = DEMO_PA_CONSOLE.password;
    const groups = deskGroups(desk);
    await startKamailio({ users, groups, port: DEMO_SIP.port, wsPort: DEMO_SIP.wsPort, rtpengine, rpcToken: desk?.sip.rpc?.token, pageGateway: gateway?.user });
    say(`SIP server     ws://127.0.0.1:${DEMO_SIP.wsPort}/   (Kamailio + rtpengine for browser desks; desks ${(desk?.desks ?? []).map((d) => d.id).join(', ')}; groups ${Object.entries(groups).map(([g, m]) => `${g} = ${m.join(' + ')}`).join('; ') || 'none'})`);
    if (users[DEMO_PA_CONSOLE.user]) say(`PA console     http://127.0.0.1:8080/pa   (live Talk: the browser phone's SIP account ${DEMO_PA_CONSOLE.user} / ${DEMO_PA_CONSOLE.password}; the hub's page gateway is sip:${gateway!.user}@127.0.0.1:${DEMO_SIP.port})`);
    if (answerer?.password) say(`test answerer  sip:${answerer.user}@127.0.0.1:${DEMO_SIP.port}   (the hub's: the kiosks' test calls, every 72 h, or "Test now" at http://127.0.0.1:8080/supervision)`);
    say('dispatch desk  http://127.0.0.1:8080/desk   (log in as dispatcher or admin: the alarm board and the browser phone; the kiosks ring the logged-in desks first, the baresip desk last)');
    return true;
  } catch (err) {
    say(`SIP server     NOT STARTED: ${(err as Error).message.split('\n')[0]}`);
    return false;
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
  // demo-hub.json, where a site has one: its hub.json plus the SIP endpoints that register with the demo's SIP server
  // (fixed ports), kept apart so the tests that start the example hub.json never reach a running demo.
  // Without a SIP server to register with, the plain hub.json (no answerer, no live Talk).
  const demoFile = path.join(siteDir, 'demo-hub.json');
  let hubFile = existsSync(demoFile) ? demoFile : path.join(siteDir, 'hub.json');
  let { config: hub } = loadHubConfig(hubFile);
  const kiosks = hub.kiosks.filter((k) => k.config).map((k) => path.resolve(siteDir, k.config!));
  const say = (s: string) => process.stdout.write(s + '\n');
  const stop = async () => {
    say('stopping the demo ...');
    await stopAll();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  // The SIP server first: the hub's test answerer and page gateway register with it as the hub starts.
  if (!(await startSipServer(say, hub)) && hubFile === demoFile) {
    hubFile = path.join(siteDir, 'hub.json');
    hub = loadHubConfig(hubFile).config;
    say('               the hub starts from hub.json: no test answerer, no live Talk');
  }

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

  for (const file of kiosks) {
    const { config } = loadKioskConfig(file);
    const p = cli(config.id, ['kiosk', '--config', file]);
    p.child.stdout?.on('data', () => {}); // keep draining
    await p.waitFor(/"msg":"ready"/, 15_000);
    const base = `http://127.0.0.1:${config.local.port}`;
    say(`kiosk ${config.id.padEnd(13)} screen ${base}/   sim controls ${base}/sim   (${config.location.text.en})`);
  }
  say('\nA kiosk screen nobody opens raises the screen fault 90 s after start (supervision.screenStartS), as on a');
  say('kiosk whose browser did not start; opening its page clears it. The demo runs until Ctrl-C.');
  await hubProc.exited;
  say('the hub exited; stopping the demo');
  await stopAll();
  return 1;
}
