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

/**
 * rtpengine flags by the side an SDP goes to (field notes, section 5).
 * Towards a browser: ICE, DTLS-SRTP (rtpengine's default for SAVPF), rtcp-mux,
 * a=mid. Towards a kiosk or another plain endpoint: RTP/AVP, no ICE, RTCP on
 * its own port.
 */
export const RTPENGINE_FLAGS = {
  toBrowser: 'replace-origin replace-session-connection rtcp-mux-offer generate-mid SDES-off ICE=force RTP/SAVPF',
  toPlain: 'replace-origin replace-session-connection rtcp-mux-demux ICE=remove RTP/AVP',
} as const;

export interface KamailioConfigOptions {
  port: number;
  wsPort: number;
  users: Record<string, string>;
  mpath: string;
  /** rtpengine's ng socket ("udp:127.0.0.1:PORT"): bridge WebRTC browsers and plain-RTP endpoints */
  rtpengine?: string;
}

export function kamailioConfig(o: KamailioConfigOptions): string {
  const users = Object.entries(o.users)
    .map(([u, p]) => `  $sht(users=>${u}) = "${p.replace(/"/g, '')}";`)
    .join('\n');
  const media = o.rtpengine !== undefined;
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
${media ? mediaModules(o.rtpengine!) : ''}
modparam("htable", "htable", "users=>size=4;")
modparam("registrar", "received_avp", "$avp(RECEIVED)")
modparam("nathelper", "received_avp", "$avp(RECEIVED)")
modparam("rr", "enable_double_rr", 1)

request_route {
  xlog("L_INFO", "REQ $rm $ru from $si:$sp ($pr) fU=$fU ct=$cT\\n");
  # In-call INFO (DTMF relay, the desk's alarm acknowledgement) with its small body, for diagnosis.
  if (is_method("INFO") && $cl < 200) xlog("L_INFO", "INFO $ci $cT: $(rb{s.escape.common})\\n");
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  if (!sanity_check("1511", "7")) { xlog("L_WARN", "malformed request from $si:$sp\\n"); exit; }
  if (nat_uac_test("64")) {
    force_rport();
    if (is_method("REGISTER")) fix_nated_register(); else add_contact_alias();
  }
  if (has_totag()) {
    if (loose_route()) {
      handle_ruri_alias();${media ? '\n      route(MEDIA_IN_DIALOG);' : ''}
      route(RELAY);
    }
    if (is_method("ACK")) { if (t_check_trans()) route(RELAY); exit; }
    # Peers that ignore Record-Route (sipp) send in-dialog requests here without Route: relay them to the Request-URI.
    if (uri != myself) route(RELAY);
    sl_send_reply("404", "Not here");
    exit;
  }
  if (is_method("CANCEL")) { if (t_check_trans()) {${media ? ' rtpengine_delete();' : ''} route(RELAY); } exit; }
  t_check_trans();
  if (is_method("REGISTER")) {
    if (!pv_www_authenticate("$td", "$sht(users=>$tU)", "0")) { www_challenge("$td", "0"); exit; }${
      media
        ? `
    # A browser (WebSocket, and ICE announced with +sip.ice, RFC 5768) gets WebRTC media: the flag is kept with its contact.
    if ($pr =~ "^wss?$" && $hdr(Contact) =~ "[+]sip[.]ice") setbflag(FLB_WEBRTC);`
        : ''
    }
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
  }${media ? '\n  if (is_method("INVITE")) route(MEDIA_INVITE);' : ''}
  route(RELAY);
}

onreply_route {
  xlog("L_INFO", "REPLY $rs $rr for $rm from $si:$sp\\n");
  # A browser's Contact names a host nobody can reach (*.invalid): remember the WebSocket connection it came over.
  if (nat_uac_test("64")) add_contact_alias();
}

route[RELAY] {
  if (!t_relay()) sl_reply_error();
  exit;
}
${media ? mediaRoutes() : ''}
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

function mediaModules(sock: string): string {
  return `loadmodule "rtpengine.so"

#!define FLT_SRC_WEBRTC 1
#!define FLB_WEBRTC 7
modparam("rtpengine", "rtpengine_sock", "${sock}")
# is_direction() for in-dialog requests needs the caller's tag in Record-Route.
modparam("rr", "append_fromtag", 1)
# A desk whose WebSocket is gone is not rung: the kiosk hunts on at once.
modparam("usrloc", "handle_lost_tcp", 1)
`;
}

/**
 * rtpengine rewrites an SDP only on a call with a browser on at least one
 * side; kiosk-to-kiosk and kiosk-to-SIP-phone calls keep their direct RTP.
 * Which side is a browser is known from the caller's offer (SAVPF) and from
 * the callee's registration (FLB_WEBRTC), and is kept for in-dialog requests
 * as Record-Route parameters (rtcc: the caller, rtce: the callee).
 */
function mediaRoutes(): string {
  const offer = (toBrowser: string) => `if (${toBrowser}) { if (!rtpengine_offer("${RTPENGINE_FLAGS.toBrowser}")) route(MEDIA_DOWN); }
  else if (!rtpengine_offer("${RTPENGINE_FLAGS.toPlain}")) route(MEDIA_DOWN);`;
  return `
route[MEDIA_INVITE] {
  if (has_body("application/sdp") && search_body("RTP/SAVPF")) { setflag(FLT_SRC_WEBRTC); add_rr_param(";rtcc=1"); }
  if (isbflagset(FLB_WEBRTC)) add_rr_param(";rtce=1");
  if (!isflagset(FLT_SRC_WEBRTC) && !isbflagset(FLB_WEBRTC)) return;
  if (!has_body("application/sdp")) { sl_send_reply("488", "Offer Required"); exit; }
  ${offer('isbflagset(FLB_WEBRTC)')}
  t_on_reply("MEDIA_REPLY");
  t_on_failure("MEDIA_FAILURE");
}

route[MEDIA_IN_DIALOG] {
  $var(caller) = 0;
  $var(callee) = 0;
  if (check_route_param("rtcc=1")) $var(caller) = 1;
  if (check_route_param("rtce=1")) $var(callee) = 1;
  if ($var(caller) == 0 && $var(callee) == 0) return;
  if (is_method("BYE")) { rtpengine_delete(); return; }
  if (!is_method("INVITE|UPDATE") || !has_body("application/sdp")) return;
  if (is_direction("downstream")) { $var(src) = $var(caller); $var(dst) = $var(callee); }
  else { $var(src) = $var(callee); $var(dst) = $var(caller); }
  if ($var(src) == 1) setflag(FLT_SRC_WEBRTC);
  ${offer('$var(dst) == 1')}
  t_on_reply("MEDIA_REPLY");
}

route[MEDIA_DOWN] {
  xlog("L_ERR", "rtpengine refused the offer of $ci\\n");
  sl_send_reply("503", "Media Relay Unavailable");
  exit;
}

onreply_route[MEDIA_REPLY] {
  if (!has_body("application/sdp") || !($rs =~ "^(18[0-9]|2[0-9][0-9])$")) return;
  # The answer goes back to whoever sent the offer.
  if (isflagset(FLT_SRC_WEBRTC)) { if (!rtpengine_answer("${RTPENGINE_FLAGS.toBrowser}")) xlog("L_ERR", "rtpengine refused the answer of $ci\\n"); }
  else if (!rtpengine_answer("${RTPENGINE_FLAGS.toPlain}")) xlog("L_ERR", "rtpengine refused the answer of $ci\\n");
}

failure_route[MEDIA_FAILURE] {
  rtpengine_delete();
}
`;
}

export interface KamailioOptions {
  users: Record<string, string>;
  port?: number;
  /** bridge WebRTC through this rtpengine (start it first: startRtpengine) */
  rtpengine?: { sock: string };
}

export async function startKamailio(opts: KamailioOptions): Promise<Kamailio> {
  const bin = requireTool('kamailio', 'kamailio');
  const mpath = MODULE_DIRS.find((d) => existsSync(path.join(d, 'websocket.so')));
  if (!mpath) throw new Error('kamailio websocket module missing (Debian package kamailio-websocket-modules); run: bash scripts/install-system.sh');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hp-kamailio-'));
  const port = opts.port ?? (await freePort());
  const wsPort = await freePort();
  const cfg = path.join(dir, 'kamailio.cfg');
  writeFileSync(cfg, kamailioConfig({ port, wsPort, users: opts.users, mpath, rtpengine: opts.rtpengine?.sock }));
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
