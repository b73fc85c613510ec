// Kamailio as registrar and proxy on loopback: UDP and TCP on one port, SIP
// over WebSocket on another, digest auth against users given by the test.
// Per the field notes: no bare alias=127.0.0.1 (it would swallow every port).
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { start, type Managed } from './proc.js';
import { freePort } from './ports.js';
import { requireTool } from './tools.js';

export interface Kamailio {
  proc: Managed;
  dir: string;
  port: number;
  wsPort: number;
  domain: string;
  stop(): Promise<void>;
}

const MODULE_DIRS = ['/usr/lib/x86_64-linux-gnu/kamailio/modules', '/usr/lib/aarch64-linux-gnu/kamailio/modules', '/usr/lib/kamailio/modules'];

export function kamailioConfig(o: { port: number; wsPort: number; users: Record<string, string>; mpath: string }): string {
  const users = Object.entries(o.users)
    .map(([u, p]) => `  $sht(users=>${u}) = "${p.replace(/"/g, '')}";`)
    .join('\n');
  return `#!KAMAILIO
debug=2
log_stderror=yes
children=2
tcp_children=2
auto_aliases=no
listen=udp:127.0.0.1:${o.port}
listen=tcp:127.0.0.1:${o.port}
listen=tcp:127.0.0.1:${o.wsPort}
alias="127.0.0.1:${o.port}"
alias="127.0.0.1:${o.wsPort}"
tcp_accept_no_cl=yes
mpath="${o.mpath}"

loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "sanity.so"
loadmodule "auth.so"
loadmodule "htable.so"
loadmodule "nathelper.so"
loadmodule "xhttp.so"
loadmodule "websocket.so"

modparam("htable", "htable", "users=>size=4;")
modparam("registrar", "received_avp", "$avp(RECEIVED)")
modparam("nathelper", "received_avp", "$avp(RECEIVED)")
modparam("rr", "enable_double_rr", 1)

request_route {
  xlog("L_INFO", "REQ $rm $ru from $si:$sp ($pr) fU=$fU\n");
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  if (!sanity_check("1511", "7")) { xlog("L_WARN", "malformed request from $si:$sp\\n"); exit; }
  if (nat_uac_test("64")) {
    force_rport();
    if (is_method("REGISTER")) fix_nated_register(); else add_contact_alias();
  }
  if (has_totag()) {
    if (loose_route()) { handle_ruri_alias(); route(RELAY); }
    if (is_method("ACK")) { if (t_check_trans()) route(RELAY); exit; }
    # Peers that ignore Record-Route (sipp) send in-dialog requests here without Route: relay them to the Request-URI.
    if (uri != myself) route(RELAY);
    sl_send_reply("404", "Not here");
    exit;
  }
  if (is_method("CANCEL")) { if (t_check_trans()) route(RELAY); exit; }
  t_check_trans();
  if (is_method("REGISTER")) {
    if (!pv_www_authenticate("$td", "$sht(users=>$tU)", "0")) { www_challenge("$td", "0"); exit; }
    if (!save("location")) sl_reply_error();
    exit;
  }
  if (is_method("OPTIONS") && uri == myself && $rU == $null) { sl_send_reply("200", "Keepalive"); exit; }
  if (is_method("INVITE|MESSAGE") && $sht(users=>$fU) != $null) {
    if (!pv_proxy_authenticate("$fd", "$sht(users=>$fU)", "0")) { proxy_challenge("$fd", "0"); exit; }
    consume_credentials();
  }
  if (is_method("INVITE")) record_route();
  # "sip:user@127.0.0.1" (no port) names our own domain: look the user up.
  if (uri == myself || ($rd == "127.0.0.1" && $(ru{uri.port}) == "")) {
    if (!lookup("location")) { sl_send_reply("404", "Not Found"); exit; }
  }
  route(RELAY);
}

onreply_route {
  xlog("L_INFO", "REPLY $rs $rr for $rm from $si:$sp\n");
}

route[RELAY] {
  if (!t_relay()) sl_reply_error();
  exit;
}

event_route[xhttp:request] {
  if ($hdr(Upgrade) =~ "websocket" && $hdr(Connection) =~ "Upgrade" && $rm =~ "GET") {
    if (ws_handle_handshake()) exit;
  }
  xhttp_reply("404", "Not Found", "", "");
}

event_route[htable:mod-init] {
${users}
}
`;
}

export async function startKamailio(opts: { users: Record<string, string>; port?: number }): Promise<Kamailio> {
  const bin = requireTool('kamailio', 'kamailio');
  const mpath = MODULE_DIRS.find((d) => existsSync(path.join(d, 'websocket.so')));
  if (!mpath) throw new Error('kamailio websocket module missing (Debian package kamailio-websocket-modules); run: bash scripts/install-system.sh');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hp-kamailio-'));
  const port = opts.port ?? (await freePort());
  const wsPort = await freePort();
  const cfg = path.join(dir, 'kamailio.cfg');
  writeFileSync(cfg, kamailioConfig({ port, wsPort, users: opts.users, mpath }));
  // -DD: stay in the foreground (we stop it by PID); -E: log to stderr; -Y: runtime dir of its own.
  const proc = start('kamailio', bin, ['-DD', '-E', '-f', cfg, '-Y', dir, '-P', path.join(dir, 'kamailio.pid'), '-m', '64', '-M', '8'], { cwd: dir });
  await proc.waitFor(/INFO: .*(init_tcp|tcp_main|main_loop)|ready to process|processes started|initializing/i, 10_000).catch(() => undefined);
  await waitPort(wsPort, proc);
  return { proc, dir, port, wsPort, domain: '127.0.0.1', stop: () => proc.stop() };
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
