// The site's SIP server: Kamailio as registrar and proxy for kiosks (UDP,
// TCP, TLS) and browser desks (WebSocket), with rtpengine bridging the
// browsers' WebRTC media to the kiosks' plain RTP. One generator for the
// test bed (loopback, free ports, plain passwords), the demo, and the
// production template in device/sip-server/ (scripts/gen-sip-server.ts), so
// the routing that is tested is the routing that is deployed.
//
// Per the field notes (section 5): no port-less alias (in-dialog requests to
// an endpoint on the same IP came back to Kamailio), tcp_accept_no_cl=yes,
// WebSocket handshake in event_route[xhttp:request], nathelper on requests
// and replies over WebSocket and TLS (a kiosk over TLS is reached over its
// own connection), offer in the INVITE route and answer in an
// onreply_route, rtpengine_delete on BYE and CANCEL.
import { ALL_PAGE_USER, GROUP_PAGE_PREFIX, PAGE_PREFIX, ZONE_PAGE_PREFIX } from './reserved-users.js';

/**
 * rtpengine flags by the side an SDP goes to.
 * Towards a browser: ICE, DTLS-SRTP (rtpengine's default for SAVPF), rtcp-mux,
 * a=mid. Towards a kiosk or another plain endpoint: RTP/AVP, no ICE, RTCP on
 * its own port.
 */
export const RTPENGINE_FLAGS = {
  toBrowser: 'replace-origin replace-session-connection rtcp-mux-offer generate-mid SDES-off ICE=force RTP/SAVPF',
  toPlain: 'replace-origin replace-session-connection rtcp-mux-demux ICE=remove RTP/AVP',
} as const;

export interface KamailioCfgOptions {
  /** lines before the modules: listen, alias, global parameters */
  header: string;
  /** the SIP domain: "sip:user@DOMAIN" without a port is looked up in the location table */
  domain: string;
  /** rtpengine's ng socket ("udp:127.0.0.1:2223"); without it, no media bridging (plain SIP only) */
  rtpengine?: string;
  /** load the TLS module with this config file (kiosks over TLS, browsers over WSS) */
  tlsConfig?: string;
  /** the users table: digest passwords (test bed) or HA1 hashes md5(user:domain:password) (production) */
  users: { ha1: boolean; init: string };
  /**
   * Test bed only: INVITE and MESSAGE from a From user with no account pass
   * without authentication (sipp callers), and in-dialog requests without
   * Route (sipp ignores Record-Route) are relayed to their Request-URI.
   * Production authenticates every initial INVITE and MESSAGE.
   */
  lenient: boolean;
  /** log every request and reply (test bed: the tests read the log) */
  verbose: boolean;
  /**
   * The hub's control of desks: JSON-RPC over HTTP at /RPC on the WebSocket
   * port, only with this token in the X-Helppoint-Rpc header (a browser
   * cannot add a header to a request of another origin). The hub removes a
   * desk's registration when its dispatcher logs out (ul.rm) and sets each
   * session's desk password in the users table (htable.sets, htable.get).
   */
  rpcToken?: string;
  /**
   * Only on this listening port (the production template's RPC_PORT, a plain
   * TCP listener on an internal address): never on the public WSS port.
   */
  rpcPort?: string;
  /**
   * The kiosks' paging user (kiosk config sip.paging.user, the same at every kiosk of the site): a page to
   * "sip:page-KIOSK@domain" reaches KIOSK's registration with this user in its Request-URI.
   */
  pagingUser: string;
  /**
   * The hub's page gateway (hub config pa.gateway.account.user): a zone page to
   * "sip:page-zone-ZONE@domain", a zone group's page to "sip:page-group-GROUP@domain"
   * or all-call to "sip:page-all@domain" from an authenticated caller reaches its
   * registration with the zone or group and the caller asserted in headers set here.
   */
  pageGatewayUser: string;
}

/** The zone of a zone page, set by the SIP server (route ZONE_PAGE) after removing any the caller sent. */
export const ZONE_PAGE_HEADER = 'X-Helppoint-Page-Zone';
/** The zone group of a group page ("*" for all-call), set by the SIP server (route ZONE_PAGE) after removing any the caller sent. */
export const GROUP_PAGE_HEADER = 'X-Helppoint-Page-Group';

/**
 * Desk groups: \$sht(groups=>GROUP::0), \$sht(groups=>GROUP::1), ... name the
 * member desks (SIP users) of GROUP, set in the same init block as the users
 * (see deskGroupLines).
 */
export function deskGroupLines(groups: Record<string, string[]>): string {
  return Object.entries(groups)
    .flatMap(([g, members]) => members.map((m, i) => `  $sht(groups=>${g}::${i}) = "${m.replace(/"/g, '')}";`))
    .join('\n');
}

const MODULES = ['kex', 'corex', 'tm', 'tmx', 'sl', 'rr', 'pv', 'maxfwd', 'usrloc', 'registrar', 'textops', 'siputils', 'xlog', 'sanity', 'auth', 'htable', 'nathelper', 'xhttp', 'websocket'];
const RPC_MODULES = ['jsonrpcs'];

export function kamailioCfg(o: KamailioCfgOptions): string {
  const media = o.rtpengine !== undefined;
  const ha1 = o.users.ha1 ? '1' : '0';
  const authInvite = o.lenient ? `is_method("INVITE|MESSAGE") && $sht(users=>$fU) != $null` : `is_method("INVITE|MESSAGE")`;
  return `#!KAMAILIO
${o.header.trim()}

${[...MODULES, ...(o.rpcToken ? RPC_MODULES : [])].map((m) => `loadmodule "${m}.so"`).join('\n')}
${o.rpcToken ? 'modparam("jsonrpcs", "transport", 1)\nmodparam("jsonrpcs", "pretty_format", 0)\n' : ''}${o.tlsConfig ? `loadmodule "tls.so"\nmodparam("tls", "config", "${o.tlsConfig}")\n` : ''}${media ? mediaModules(o.rtpengine!) : ''}
modparam("htable", "htable", "users=>size=8;")
modparam("htable", "htable", "groups=>size=6;")
modparam("registrar", "received_avp", "$avp(RECEIVED)")
modparam("nathelper", "received_avp", "$avp(RECEIVED)")
modparam("rr", "enable_double_rr", 1)
# A branch that sends nothing at all (not even 100 Trying) within 5 s is given up with 408: a desk whose network
# died without closing its WebSocket is still registered, and its INVITE would otherwise wait for the kiosk's ring
# timeout; the kiosk's hunt moves on at the 408. A desk's page rings at once, a SIP phone or gateway answers 100.
modparam("tm", "fr_timer", 5000)

request_route {
${o.verbose ? `  xlog("L_INFO", "REQ $rm $ru from $si:$sp ($pr) fU=$fU ct=$cT\\n");\n` : ''}  # In-call INFO (DTMF relay, the desk's alarm acknowledgement) with its small body, for diagnosis.
  if (is_method("INFO") && $cl < 200) xlog("L_INFO", "INFO $ci $cT: $(rb{s.escape.common})\\n");
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  if (!sanity_check("1511", "7")) { xlog("L_WARN", "malformed request from $si:$sp\\n"); exit; }
  # A browser (WebSocket) or a kiosk over TLS cannot be reached at its Contact (a kiosk without a certificate of its
  # own does not accept TLS connections): requests to it go back over the connection it came over.
  if (nat_uac_test("64") || proto == TLS) {
    force_rport();
    if (is_method("REGISTER")) fix_nated_register(); else add_contact_alias();
  }
  if (has_totag()) {
    if (loose_route()) {
      handle_ruri_alias();${media ? '\n      route(MEDIA_IN_DIALOG);' : ''}
      route(RELAY);
    }
    if (is_method("ACK")) { if (t_check_trans()) route(RELAY); exit; }${
      o.lenient
        ? `
    # Peers that ignore Record-Route (sipp) send in-dialog requests here without Route: relay them to the Request-URI.
    if (uri != myself) route(RELAY);`
        : ''
    }
    sl_send_reply("404", "Not here");
    exit;
  }
  if (is_method("CANCEL")) { if (t_check_trans()) {${media ? ' rtpengine_delete();' : ''} route(RELAY); } exit; }
  t_check_trans();
  if (is_method("REGISTER")) {
    if (!pv_www_authenticate("$td", "$sht(users=>$tU)", "${ha1}")) { www_challenge("$td", "0"); exit; }
    # Over TCP or TLS, requests to this contact go over the connection it registered on (its source is kept as
    # received): a kiosk trusts what comes over the connection it opened to its registrar, not a new one (a page).
    if ($pr =~ "^(tcp|tls)$") fix_nated_register();${
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
  if (${authInvite}) {
    if (!pv_proxy_authenticate("$fd", "$sht(users=>$fU)", "${ha1}")) { proxy_challenge("$fd", "0"); exit; }
    # Who the caller is, for a zone page: the user it authenticated as, when that is its From user.
    if ($au == $fU) $avp(caller) = $au;
    consume_credentials();
  }
  # The caller's identity and a zone page's zone or group are this server's to assert (route ZONE_PAGE), never the caller's.
  if (is_method("INVITE")) { remove_hf("P-Asserted-Identity"); remove_hf("${ZONE_PAGE_HEADER}"); remove_hf("${GROUP_PAGE_HEADER}"); }
  if (is_method("INVITE")) record_route();
  # "sip:user@${o.domain}" (no port) names our own domain: look the user up.
  if (uri == myself || ($rd == "${o.domain}" && $(ru{uri.port}) == "")) {
    if (is_method("INVITE") && $rU =~ "^(${ZONE_PAGE_PREFIX}|${GROUP_PAGE_PREFIX}|${ALL_PAGE_USER}$)") route(ZONE_PAGE);
    else if (is_method("INVITE") && $rU =~ "^${PAGE_PREFIX}") route(PAGE);
    else if ($sht(groups=>$rU::0) != $null) route(GROUP);
    else if (!lookup("location")) { sl_send_reply("404", "Not Found"); exit; }
  }${media ? '\n  if (is_method("INVITE")) route(MEDIA_INVITE);' : ''}
  route(RELAY);
}

onreply_route {
${o.verbose ? `  xlog("L_INFO", "REPLY $rs $rr for $rm from $si:$sp\\n");\n` : ''}  # A browser's Contact names a host nobody can reach (*.invalid): remember the WebSocket connection it came over.
  if (nat_uac_test("64") || proto == TLS) add_contact_alias();
}

route[RELAY] {
  if (!t_relay()) sl_reply_error();
  exit;
}

# A desk group: every member desk that is registered now rings at once (the first to answer takes the call;
# the hub's claim keeps a second dispatcher from answering too). None registered: 404 at once, so a kiosk's
# hunt moves on without waiting for a ring timeout.
route[GROUP] {
  $var(group) = $rU;
  $var(host) = $rd;
  $var(i) = 0;
  while ($sht(groups=>$var(group)::$var(i)) != $null) {
    $var(member) = "sip:" + $sht(groups=>$var(group)::$var(i)) + "@" + $var(host);
    if ($var(i) == 0) $ru = $var(member); else append_branch("$var(member)");
    $var(i) = $var(i) + 1;
  }
  if (!lookup_branches("location")) { sl_send_reply("404", "Not Found: nobody at the desks of $var(group)"); exit; }
  xlog("L_INFO", "group $var(group): ringing $ru and the other registered members\\n");
}

# A page to one kiosk, "sip:page-KIOSK@domain" (docs/pa.md, SIP paging), from a caller authenticated above as any
# INVITE: sent to the kiosk's registration with its paging user in the Request-URI. The kiosk trusts it by how it
# arrives (from its registrar, over the flow it registered), never by this address, which the caller chose.
# No such account: 404; the kiosk not registered now: 480, at once.
route[PAGE] {
  $var(kiosk) = $(rU{s.substr,${PAGE_PREFIX.length},0});
  if ($var(kiosk) == "" || $sht(users=>$var(kiosk)) == $null) { sl_send_reply("404", "Not Found: no kiosk $var(kiosk) to page"); exit; }
  $ru = "sip:" + $var(kiosk) + "@" + $rd;
  if (!lookup("location")) { sl_send_reply("480", "Temporarily Unavailable: kiosk $var(kiosk) is not registered"); exit; }
  t_on_branch("PAGE_BRANCH");
}

# A zone page, "sip:page-zone-ZONE@domain", a zone group's, "sip:page-group-GROUP@domain", or all-call,
# "sip:page-all@domain" (docs/pa.md, zone pages from SIP phones): not forked to the kiosks (each answers at once
# and the caller keeps one), but sent to the hub's page gateway, which pages the zones as a console's live page
# and decides which caller may page what. The gateway trusts these headers because the call arrives over its own
# registration: the zone or the group ("*": all zones), and the caller as authenticated above (all removed from
# what the caller sent). An unauthenticated caller (test bed only: production authenticates every INVITE) gets
# 403; a malformed name 404; the gateway not registered: 480.
route[ZONE_PAGE] {
  if ($avp(caller) == $null) { sl_send_reply("403", "Forbidden: a zone page needs an authenticated caller"); exit; }
  if ($rU == "${ALL_PAGE_USER}") {
    append_hf("${GROUP_PAGE_HEADER}: *\\r\\n");
    $var(zone) = "all zones";
  } else if ($rU =~ "^${GROUP_PAGE_PREFIX}") {
    # The name is checked on the Request-URI: an empty substring assigned to a $var would read as "0".
    if (!($rU =~ "^${GROUP_PAGE_PREFIX}[A-Za-z0-9_.~-]+$")) { sl_send_reply("404", "Not Found: no zone group to page"); exit; }
    $var(zone) = $(rU{s.substr,${GROUP_PAGE_PREFIX.length},0});
    append_hf("${GROUP_PAGE_HEADER}: $var(zone)\\r\\n");
    $var(zone) = "group " + $var(zone);
  } else {
    if (!($rU =~ "^${ZONE_PAGE_PREFIX}[A-Za-z0-9_.~-]+$")) { sl_send_reply("404", "Not Found: no zone to page"); exit; }
    $var(zone) = $(rU{s.substr,${ZONE_PAGE_PREFIX.length},0});
    append_hf("${ZONE_PAGE_HEADER}: $var(zone)\\r\\n");
  }
  append_hf("P-Asserted-Identity: <sip:$avp(caller)@${o.domain}>\\r\\n");
  $ru = "sip:${o.pageGatewayUser.replace(/"/g, '')}@" + $rd;
  if (!lookup("location")) { sl_send_reply("480", "Temporarily Unavailable: the page gateway is not registered"); exit; }
  xlog("L_INFO", "zone page $var(zone) from $avp(caller): $ru\\n");
}

# Every contact of the kiosk (a stale one too) is paged as the paging user, never under its own: that would be an ordinary call.
branch_route[PAGE_BRANCH] {
  $rU = "${o.pagingUser.replace(/"/g, '')}";
  xlog("L_INFO", "page $var(kiosk) from $fu: $ru\\n");
}
${media ? mediaRoutes() : ''}
event_route[xhttp:request] {${
    o.rpcToken
      ? `
  if ($hu =~ "^/RPC") {
    if (${o.rpcPort ? `$Rp == ${o.rpcPort} && ` : ''}$hdr(X-Helppoint-Rpc) == "${o.rpcToken.replace(/"/g, '')}") { jsonrpc_dispatch(); exit; }
    xhttp_reply("403", "Forbidden", "", "");
    exit;
  }`
      : ''
  }
  if ($hdr(Upgrade) =~ "websocket" && $hdr(Connection) =~ "Upgrade" && $rm =~ "GET") {
    if (ws_handle_handshake()) exit;
  }
  xhttp_reply("404", "Not Found", "", "");
}

${o.users.init.trim()}
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
