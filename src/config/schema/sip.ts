import { Type } from '@sinclair/typebox';
import { Id, Port, Strict } from './common.js';

export const SipTransport = Type.Union(
  [Type.Literal('udp'), Type.Literal('tcp'), Type.Literal('tls'), Type.Literal('ws'), Type.Literal('wss')],
  { default: 'udp' },
);

const SipUri = Type.String({ pattern: '^sips?:[^\\s]+$', description: 'a SIP URI, e.g. sip:desk@10.0.0.5:5060' });

export const Registrar = Strict({
  uri: SipUri,
  transport: SipTransport,
  /** ws/wss only: the WebSocket URL of the proxy */
  wsUrl: Type.Optional(Type.String({ format: 'uri', pattern: '^wss?://' })),
});

export const Account = Strict(
  {
    user: Type.String({ minLength: 1 }),
    authUser: Type.Optional(Type.String()),
    password: Type.Optional(Type.String({ description: 'digest password; never logged' })),
    domain: Type.String({ minLength: 1 }),
    displayName: Type.Optional(Type.String()),
    registrars: Type.Array(Registrar, { description: 'primary first, then backups; empty for registrarless calls' }),
    registrationMode: Type.Union([Type.Literal('serial'), Type.Literal('parallel')], { default: 'serial' }),
    expiresS: Type.Integer({ minimum: 30, default: 300 }),
  },
  'a SIP account',
);

/** A hunt-list entry: a SIP URI, or a console desk or desk group by name (found at the site SIP server, see docs/desk-media.md). */
const TargetUri = Type.String({
  pattern: '^(sips?:[^\\s]+|(desk|group):[A-Za-z0-9][A-Za-z0-9_.-]{0,62})$',
  description:
    'a SIP URI (sip:desk@10.0.0.5:5060), a console desk by name (desk:desk-1) or a group of console desks (group:control-room). desk: and group: are called as sip:NAME@ the site SIP server (sip.deskServer, else the account domain through the registrar), which rings the desks of a group that are logged in at once and refuses with 404 when none is: the hunt moves on at once',
});

export const Target = Strict({
  uri: TargetUri,
  ringTimeoutS: Type.Number({ exclusiveMinimum: 0, maximum: 300, default: 15 }),
  unreachableAfterS: Type.Number({
    minimum: 0,
    maximum: 300,
    default: 0,
    description:
      'give the target up when it shows no sign of life this long after the INVITE, before its ring timeout. For desk: and group: targets the sign is ringing (180, 182 or 183: the site SIP server answers 100 Trying itself, only a ring comes from a desk); for a SIP URI any response, 100 Trying included. Off by default (0, or not less than ringTimeoutS): the site SIP server of this project already answers 408 for a desk that sends nothing within 5 s (a desk whose network died without closing its connection), and a provisional response lost on a lossy link is not sent again, so a short value here can skip a desk that is ringing. For desks behind another SIP server without such a timer',
  }),
  name: Type.Optional(Type.String()),
});

const Dtmf = (dflt: string, description: string) => Type.String({ pattern: '^[0-9*#A-D]{1,8}$', default: dflt, description });

/** The alarm (EN 81-28): how a desk acknowledges and resets it, and how it is re-sent. */
export const AlarmSettings = Type.Object(
  {
    ackDtmf: Dtmf('*5', 'DTMF code (RFC 4733 or SIP INFO dtmf-relay) by which the desk acknowledges the alarm on its call'),
    resetDtmf: Dtmf('*9', 'DTMF code by which the desk resets (closes) the alarm'),
    mediaTimeoutS: Type.Integer({
      minimum: 0,
      maximum: 300,
      default: 10,
      description: 'no RTP from the desk for this long ends a connected call (a desk PC that died sends no BYE); an unacknowledged alarm is then re-sent. Applies to information calls too. 0: never',
    }),
    queueMaxWaitS: Type.Integer({ minimum: 1, maximum: 3600, default: 60, description: 'after 182 Queued, the longest wait before the alarm goes to the next desk' }),
    talkAcknowledgesAfterS: Type.Integer({
      minimum: 0,
      maximum: 3600,
      default: 0,
      description: 'for sites whose desks cannot send an acknowledgement: talking this long counts as acknowledged. 0 (the default): only an explicit act of the desk acknowledges',
    }),
    raiseOn: Type.Array(
      Strict({
        input: Type.Union([Type.Literal('tamper'), Type.Literal('door'), Type.Literal('powerFail')], { description: 'an input of io.inputs' }),
        category: Type.Optional(Id),
      }),
      { default: [], description: 'inputs whose activation raises an alarm (tamper opened, door forced, mains lost), with the category the desk sees' },
    ),
  },
  { additionalProperties: false, default: {}, description: 'the alarm: acknowledgement codes, re-sending, inputs that raise one' },
);

export const Sip = Strict(
  {
    localPort: Type.Optional(Port),
    localHost: Type.String({ default: '127.0.0.1', description: 'address SIP and RTP bind to' }),
    transport: Type.Union([Type.Literal('udp'), Type.Literal('tcp'), Type.Literal('tls')], {
      default: 'udp',
      description: 'transport for registrarless calls (with registrars, the primary registrar\'s transport is used)',
    }),
    account: Account,
    deskServer: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9.-]+(:\\d{1,5})?$|^\\[[0-9a-fA-F:.]+\\](:\\d{1,5})?$',
        description: 'host or host:port of the site SIP server that knows the console desks, for desk: and group: targets of a kiosk without registrars (default: the account domain, through the registrar)',
      }),
    ),
    targets: Strict({
      emergency: Type.Array(Target, { minItems: 1, description: 'desks tried in order, then again from the first' }),
      information: Type.Array(Target, { minItems: 1 }),
    }),
    inviteRetransmitMaxMs: Type.Integer({
      minimum: 500,
      maximum: 32000,
      default: 4000,
      description:
        'UDP only: longest interval between two retransmissions of an INVITE that has no answer yet (ms). RFC 3261 doubles it from 500 ms without limit (gaps of 8 and 16 s); capped, an INVITE leaves within this time of a network returning. 32000 gives the RFC schedule exactly.',
    }),
    emergencyCancellable: Type.Boolean({ default: false }),
    callTimeLimitS: Type.Integer({ minimum: 0, default: 0, description: 'limit on calls the kiosk places (s); 0: no limit. Two beeps 10 s before the end.' }),
    incomingCallTimeLimitS: Type.Integer({
      minimum: 0,
      default: 600,
      description: 'limit on calls to the kiosk (desk call-backs, calls answered on the screen) (s); 0: no limit. Two beeps 10 s before the end. A stranger who reaches the kiosk cannot hold its line and microphone open for ever.',
    }),
    tls: Type.Optional(
      Strict(
        {
          ca: Type.Optional(
            Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], {
              description:
                'PEM file(s) of the CA(s) that sign the site SIP server\'s certificate, relative to the config file. Without it the system\'s public CAs are used (a site server with a private CA or a self-signed certificate is then refused)',
            }),
          ),
          cert: Type.Optional(Type.String({ minLength: 1, description: 'PEM file of the kiosk\'s own certificate (chain), relative to the config file: the kiosk then accepts TLS connections (calls to it) and shows it to a server that asks for a client certificate. With key' })),
          key: Type.Optional(Type.String({ minLength: 1, description: 'PEM file of the private key of cert, relative to the config file (not encrypted)' })),
          serverPins: Type.Array(
            Type.String({ pattern: '^([0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}$', description: 'SHA-256 (hex, colons allowed) of the server certificate (DER) or of its public key (SPKI, DER)' }),
            {
              default: [],
              description:
                'when not empty, a SIP server whose certificate matches none of these is refused even if a CA in ca signed it (the CA check and the host name check still apply)',
            },
          ),
        },
        'SIP over TLS (transport "tls"): which server certificates the kiosk accepts, and its own certificate. The server\'s certificate is always verified: against ca, its host name (or, for a registrar given by IP address, that address in its subjectAltName), and serverPins',
      ),
    ),
    trustedSources: Type.Array(
      Type.String({
        pattern: '^(\\d{1,3}(\\.\\d{1,3}){3}(/\\d{1,2}|:\\d{1,5})?|\\[[0-9a-fA-F:.]+\\]:\\d{1,5}|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*(/\\d{1,3})?)$',
        description: 'an address (10.0.0.5), an address and port (10.0.0.5:5060, [fd00::5]:5060) or a network (10.0.0.0/24, fd00::/64)',
      }),
      {
        default: [],
        description:
          'where calls may come from to be trusted, besides the registrar/proxy the kiosk is registered with (always trusted, by its address and port). Only trusted calls auto-answer and may pulse the door with DTMF; others ring on the screen. Matched against the packet source (UDP) or the connection (TCP/TLS), never the From header.',
      },
    ),
    trustedTlsPeers: Type.Array(Type.String({ pattern: '^([0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}$', description: 'SHA-256 of the peer certificate (DER), hex, colons allowed' }), {
      default: [],
      description: 'TLS peers whose calls are trusted, pinned by certificate; a call that arrives over a TLS connection from one of them is trusted wherever it comes from',
    }),
    autoAnswerFrom: Type.Array(Type.String(), {
      default: [],
      description:
        'SIP URIs or user@host patterns that may auto-answer. A narrowing filter only: the call must also be trusted by how it arrived (registrar, sip.trustedSources, sip.trustedTlsPeers); the From header alone never opens the microphone.',
    }),
    doorDtmf: Type.String({ pattern: '^[0-9*#A-D]{1,8}$', default: '*1' }),
    paging: Type.Optional(
      Strict(
        {
          user: Type.String({
            pattern: '^[A-Za-z0-9._~+-]{1,64}$',
            default: 'page',
            description:
              'the paging address: an INVITE whose Request-URI user (or, through a proxy that rewrote it to the kiosk\'s contact, To user) is this one is a page. Must differ from sip.account.user',
          }),
          from: Type.Array(Type.String(), {
            default: [],
            description:
              'SIP URIs or user@host patterns ("*@host": any user) that may page; empty: any caller. A narrowing filter only, as sip.autoAnswerFrom: the call must arrive over a trusted path (registrar, sip.trustedSources, sip.trustedTlsPeers), else it is refused with 403',
          }),
          priority: Type.Integer({ minimum: 1, maximum: 255, default: 100, description: 'order among live pages in the page channel (as a multicast group\'s priority): higher plays first' }),
          volume: Type.Number({ minimum: 0, maximum: 1, default: 1, description: 'the page\'s own volume, a share of the output volume (as a hub page)' }),
          maxDurationS: Type.Integer({ minimum: 0, maximum: 86400, default: 300, description: 'a page call longer than this is ended by the kiosk (BYE); 0: no limit' }),
        },
        'SIP paging: a dispatcher\'s phone or a paging server calls the paging address; the kiosk answers at once receive-only (the microphone stays off) and plays the audio in the page channel as a live page. Absent: off (such a call is an ordinary incoming call)',
      ),
    ),
    codecs: Type.Array(Type.Union([Type.Literal('G722'), Type.Literal('PCMU'), Type.Literal('PCMA')]), {
      default: ['G722', 'PCMU', 'PCMA'],
    }),
    rtpPortRange: Type.Optional(Strict({ min: Port, max: Port })),
    category: Type.Optional(Id),
    alarm: AlarmSettings,
  },
  'SIP intercom',
);
