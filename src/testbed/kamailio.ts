// Kamailio as registrar and proxy on loopback: UDP and TCP on one port, SIP
// over WebSocket on another, digest auth against users given by the test,
// and, given an rtpengine, media bridging for browsers. The routing is the
// site's (src/sipserver/kamailio-cfg.ts); only the header and users differ.
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { start, type Managed } from './proc.js';
import { freePort } from './ports.js';
import { requireTool } from './tools.js';
import { deskGroupLines, kamailioCfg } from '../sipserver/kamailio-cfg.js';
import { reservedSipUserProblem } from '../sipserver/reserved-users.js';

export interface Kamailio {
  proc: Managed;
  dir: string;
  port: number;
  wsPort: number;
  /** SIP over TLS, when started with `tls` */
  tlsPort?: number;
  domain: string;
  /** the config it runs (a test restarts it on the same ports with runKamailio(config, wsPort)) */
  config: string;
  stop(): Promise<void>;
}

const MODULE_DIRS = ['/usr/lib/x86_64-linux-gnu/kamailio/modules', '/usr/lib/aarch64-linux-gnu/kamailio/modules', '/usr/lib/kamailio/modules'];

export { RTPENGINE_FLAGS } from '../sipserver/kamailio-cfg.js';

export interface KamailioConfigOptions {
  port: number;
  wsPort: number;
  users: Record<string, string>;
  mpath: string;
  /** rtpengine's ng socket ("udp:127.0.0.1:PORT"): bridge WebRTC browsers and plain-RTP endpoints */
  rtpengine?: string;
  /** desk groups: group name -> member desks (SIP users), rung at once */
  groups?: Record<string, string[]>;
  /** JSON-RPC at http://127.0.0.1:WSPORT/RPC with this token (the hub removes a logged-out desk's registration) */
  rpcToken?: string;
  /** SIP over TLS on this port, with the TLS module configured by this file */
  tls?: { port: number; config: string };
  /** the hub's page gateway user zone pages (page-zone-ZONE) go to (default "page") */
  pageGateway?: string;
}

/** The test bed's config: loopback, its own ports, plain passwords, lenient with sipp, every message logged. */
export function kamailioConfig(o: KamailioConfigOptions): string {
  // Accounts with the names the server routes as pages could never be called (reserved-users.ts): refused, not generated.
  const reserved = [...Object.keys(o.users), ...Object.entries(o.groups ?? {}).flatMap(([g, members]) => [g, ...members])].flatMap((u) => reservedSipUserProblem(u) ?? []);
  if (reserved.length) throw new Error(`SIP server accounts: ${reserved.join('; ')}`);
  const users = Object.entries(o.users)
    .map(([u, p]) => `  $sht(users=>${u}) = "${p.replace(/"/g, '')}";`)
    .join('\n');
  return kamailioCfg({
    header: `debug=2
log_stderror=yes
children=2
tcp_children=2
auto_aliases=no
listen=udp:127.0.0.1:${o.port}
listen=tcp:127.0.0.1:${o.port}
listen=tcp:127.0.0.1:${o.wsPort}
alias="127.0.0.1:${o.port}"
alias="127.0.0.1:${o.wsPort}"
tcp_accept_no_cl=yes${o.tls ? `\nenable_tls=yes\nlisten=tls:127.0.0.1:${o.tls.port}\nalias="127.0.0.1:${o.tls.port}"` : ''}
mpath="${o.mpath}"`,
    domain: '127.0.0.1',
    rtpengine: o.rtpengine,
    tlsConfig: o.tls?.config,
    users: { ha1: false, init: `event_route[htable:mod-init] {\n${users}\n${deskGroupLines(o.groups ?? {})}\n}` },
    lenient: true,
    verbose: true,
    rpcToken: o.rpcToken,
    pagingUser: 'page',
    pageGatewayUser: o.pageGateway ?? 'page',
  });
}

export interface KamailioOptions {
  users: Record<string, string>;
  port?: number;
  wsPort?: number;
  /** bridge WebRTC through this rtpengine (start it first: startRtpengine) */
  rtpengine?: { sock: string };
  groups?: Record<string, string[]>;
  rpcToken?: string;
  /** the hub's page gateway user zone pages go to (default "page") */
  pageGateway?: string;
  /**
   * SIP over TLS on a port of its own with this certificate and key (PEM
   * files). The server does not ask for client certificates unless
   * `requireClientCa` is given (then it requires one that CA signed); when it dials
   * a kiosk over TLS it presents `clientCert` (default: cert) and does not
   * check the kiosk's.
   */
  tls?: { cert: string; key: string; clientCert?: string; clientKey?: string; requireClientCa?: string };
}

export async function startKamailio(opts: KamailioOptions): Promise<Kamailio> {
  const mpath = MODULE_DIRS.find((d) => existsSync(path.join(d, 'websocket.so')));
  if (!mpath) throw new Error('kamailio websocket module missing (Debian package kamailio-websocket-modules); run: bash scripts/install-system.sh');
  const port = opts.port ?? (await freePort());
  const wsPort = opts.wsPort ?? (await freePort());
  let tls: KamailioConfigOptions['tls'];
  if (opts.tls) {
    if (!existsSync(path.join(mpath, 'tls.so'))) throw new Error('kamailio TLS module missing (Debian package kamailio-tls-modules); run: bash scripts/install-system.sh');
    const t = opts.tls;
    const config = path.join(mkdtempSync(path.join(os.tmpdir(), 'hp-kamailio-tls-')), 'tls.cfg');
    writeFileSync(
      config,
      `[server:default]\nmethod = TLSv1.2+\n${t.requireClientCa ? `verify_certificate = yes\nrequire_certificate = yes\nca_list = ${t.requireClientCa}` : 'verify_certificate = no\nrequire_certificate = no'}\nprivate_key = ${t.key}\ncertificate = ${t.cert}\n\n` +
        `[client:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\nprivate_key = ${t.clientKey ?? t.key}\ncertificate = ${t.clientCert ?? t.cert}\n`,
    );
    tls = { port: await freePort(), config };
  }
  const config = kamailioConfig({ port, wsPort, users: opts.users, mpath, rtpengine: opts.rtpengine?.sock, groups: opts.groups, rpcToken: opts.rpcToken, tls, pageGateway: opts.pageGateway });
  const k = await runKamailio(config, wsPort);
    return { ...k, port, wsPort, tlsPort: tls?.port, domain: '127.0.0.1', config };
}

/** Runs Kamailio on a config text in a folder of its own; ready once `tcpPort` accepts connections. */
export async function runKamailio(config: string, tcpPort: number): Promise<{ proc: Managed; dir: string; stop(): Promise<void> }> {
  const bin = requireTool('kamailio', 'kamailio');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hp-kamailio-'));
  const cfg = path.join(dir, 'kamailio.cfg');
  writeFileSync(cfg, config);
  // -DD: stay in the foreground (we stop it by PID); -E: log to stderr; -Y: runtime dir of its own.
  const proc = start('kamailio', bin, ['-DD', '-E', '-f', cfg, '-Y', dir, '-P', path.join(dir, 'kamailio.pid'), '-m', '64', '-M', '8'], { cwd: dir });
  await proc.waitFor(/INFO: .*(init_tcp|tcp_main|main_loop)|ready to process|processes started|initializing/i, 10_000).catch(() => undefined);
  await waitPort(tcpPort, proc);
  return { proc, dir, stop: () => proc.stop() };
}

async function waitPort(port: number, proc: Managed): Promise<void> {
  const net = await import('node:net');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => (s.end(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`kamailio did not open port ${port}\n${proc.output().slice(-3000)}`);
}
