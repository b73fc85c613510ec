// The hub (control centre) configuration schema.
import { Type, type Static } from '@sinclair/typebox';
import { Id, Listen, LogLevel, Port, Strict, Text } from './common.js';
import { Site, Location } from './site.js';
import { Account } from './sip.js';

const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });

export const HubKiosk = Strict(
  {
    id: Id,
    zone: Type.String(),
    location: Location,
    tokenSha256: Type.Optional(Sha256),
    revoked: Type.Boolean({ default: false }),
    config: Type.Optional(Type.String({ description: 'kiosk config file, relative to this file (demo and first provisioning)' })),
  },
  'a kiosk the hub knows',
);

export const HubUser = Strict({
  name: Type.String({ minLength: 1 }),
  role: Type.Union([Type.Literal('dispatcher'), Type.Literal('facilities'), Type.Literal('admin')]),
  passwordHash: Type.String({ pattern: '^scrypt\\$', description: 'scrypt$<salt hex>$<hash hex>; make one with helppoint hash-password' }),
  rights: Type.Optional(
    Type.Array(Type.Literal('pa.approve'), { uniqueItems: true, description: 'rights besides the role; pa.approve: approves PA message wordings (a second user, never their author)' }),
  ),
});

const Ipv4 = Type.String({ format: 'ipv4' });
const Colour = Type.Union([Type.Literal('blue'), Type.Literal('yellow'), Type.Literal('orange'), Type.Literal('red')]);

export const HubPa = Strict(
  {
    languages: Type.Array(Type.Union([Type.Literal('zh-CN'), Type.Literal('en')]), {
      minItems: 1,
      uniqueItems: true,
      default: ['zh-CN', 'en'],
      description: 'languages of a stored message, spoken in this order',
    }),
    chime: Type.Boolean({ default: true, description: 'pre-announcement chime before live pages and messages' }),
    gateway: Type.Optional(
      Strict(
        {
          account: Account,
          localHost: Type.String({ default: '127.0.0.1', description: 'address the gateway\'s SIP and RTP bind to' }),
          localPort: Type.Optional(Port),
          rtpPortRange: Type.Optional(Strict({ min: Port, max: Port })),
          codecs: Type.Array(Type.Union([Type.Literal('G722'), Type.Literal('PCMU'), Type.Literal('PCMA')]), { default: ['G722', 'PCMU', 'PCMA'] }),
        },
        'the live-page gateway: the hub\'s SIP endpoint, registered with the site\'s SIP server; a console\'s voice arrives there and goes out to the zones as RTP',
      ),
    ),
    sipPhones: Type.Array(
      Strict({
        user: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$', description: 'the phone\'s SIP account on the site SIP server, as the SIP server asserts it (P-Asserted-Identity)' }),
        zones: Type.Union([Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, uniqueItems: true }), Type.Literal('*')], {
          description: 'the zones (pa.zones) it may page by dialling page-zone-ZONE, and page-group-GROUP when every zone of the group is among them; "*": every zone, page-all too',
        }),
        emergency: Type.Boolean({ default: false, description: 'its zone pages are emergency pages (the zones\' emergency groups and priority)' }),
      }),
      {
        default: [],
        description:
          'desk SIP phones that page through the gateway by dialling sip:page-zone-ZONE@domain, sip:page-group-GROUP@domain (every zone of a site zone group) or sip:page-all@domain: the site SIP server authenticates the caller and asserts who it is; the gateway takes the call only over its own registration and only from a phone listed here for every zone it would page. Empty (default): no zone pages from phones',
      },
    ),
    browser: Type.Optional(
      Strict(
        {
          wsUrl: Type.String({ pattern: '^wss?://', description: 'the SIP server\'s WebSocket (wss:// in production)' }),
          domain: Type.String({ minLength: 1 }),
          user: Type.Optional(Type.String({ minLength: 1, description: 'the SIP user a console suggests; each dispatcher enters their own desk account and its password in the browser (the hub never holds it)' })),
        },
        'the SIP server a console\'s browser phone registers with to call the gateway',
      ),
    ),
    zones: Type.Record(
      Type.String(),
      Strict({
        group: Ipv4,
        port: Port,
        priority: Type.Integer({ minimum: 1, maximum: 255, default: 100 }),
        emergencyGroup: Ipv4,
        emergencyPort: Port,
        emergencyPriority: Type.Integer({ minimum: 1, maximum: 255, default: 250 }),
      }),
      { default: {}, description: 'multicast page groups by zone id: one for pages, one for emergency pages' },
    ),
    multicastInterface: Type.Optional(Type.String({ format: 'ipv4', description: 'local address pages are sent from (default: by route)' })),
    multicastTtl: Type.Integer({ minimum: 1, maximum: 255, default: 8 }),
    missAfterMs: Type.Integer({ minimum: 100, maximum: 10000, default: 1000, description: 'a kiosk that has not heard a page by then reports it missed' }),
    levels: Type.Array(
      Strict({
        id: Id,
        name: Text,
        colour: Colour,
        kind: Type.Union([Type.Literal('incident'), Type.Literal('evacuation')], { default: 'incident' }),
        repeatEveryS: Type.Optional(Type.Integer({ minimum: 10, description: 'repeat the level\'s message this often until the incident closes' })),
      }),
      {
        default: [
          { id: 'blue', name: { en: 'Blue', 'zh-CN': '蓝色' }, colour: 'blue', kind: 'incident' },
          { id: 'yellow', name: { en: 'Yellow', 'zh-CN': '黄色' }, colour: 'yellow', kind: 'incident' },
          { id: 'orange', name: { en: 'Orange', 'zh-CN': '橙色' }, colour: 'orange', kind: 'incident' },
          { id: 'red', name: { en: 'Red', 'zh-CN': '红色' }, colour: 'red', kind: 'evacuation' },
        ],
        description: 'incident levels, lowest first, with their warning colour (the crowd early-warning colours by default)',
      },
    ),
  },
  'PA console, incidents and drills',
);

const DeskId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$', description: 'the desk\'s SIP user on the site SIP server' });

/** The dispatch desk (issue 12): console desks, their SIP accounts, listen-in, quick replies. */
export const HubDesk = Strict(
  {
    sip: Strict(
      {
        wsUrl: Type.String({ pattern: '^wss?://', description: 'the site SIP server\'s WebSocket URL for browsers (wss:// in production; ws:// only on localhost)' }),
        domain: Type.String({ minLength: 1, description: 'the SIP domain desks register in' }),
        rpc: Type.Optional(
          Strict(
            {
              url: Type.String({ pattern: '^https?://', description: 'the SIP server\'s JSON-RPC URL (Kamailio jsonrpcs over xhttp, e.g. http://127.0.0.1:8088/RPC)' }),
              token: Type.String({ minLength: 16, description: 'sent as X-Helppoint-Rpc; the SIP server answers RPC only with it' }),
              ha1: Type.Boolean({
                default: true,
                description:
                  'the SIP server\'s users table holds HA1 hashes md5(user:domain:password), as the production template does (device/sip-server); false: plain passwords (the test bed and the demo)',
              }),
            },
            'lets the hub remove a desk\'s registration at the SIP server the moment its dispatcher logs out or closes the page, so kiosks skip it at once, and give each session that takes a desk a password of its own, set at the SIP server and replaced when the session lets go (without it, the desks\' static passwords, and only the browser\'s own unregistering or its lost WebSocket removes a registration)',
          ),
        ),
      },
      'where console desks register',
    ),
    desks: Type.Array(
      Strict(
        {
          id: DeskId,
          password: Type.Optional(
            Type.String({
              minLength: 1,
              description: 'its static digest password on the SIP server, handed to a dispatcher\'s browser only while the dispatcher holds the desk; needed only without desk.sip.rpc (with it, each session gets a password of its own)',
            }),
          ),
          name: Type.Optional(Type.String({ maxLength: 80 })),
          users: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'only these dispatchers may take this desk (default: any dispatcher)' })),
          groups: Type.Optional(Type.Array(DeskId, { description: 'desk groups it belongs to: a kiosk hunt-list entry group:NAME rings every logged-in desk of the group at once (the SIP server\'s group list, generated from this)' })),
        },
        'a console desk: one SIP account, held by one logged-in dispatcher at a time',
      ),
      { minItems: 1 },
    ),
    listenIn: Type.Boolean({ default: false, description: 'the site allows a desk to listen in on a kiosk (a call back with the desk\'s microphone off; the kiosk shows the call as usual)' }),
    rtpengine: Type.Optional(
      Strict(
        {
          ng: Type.String({ pattern: '^[A-Za-z0-9.-]+:[0-9]{1,5}$', description: 'rtpengine\'s ng control address, udp host:port (the one Kamailio uses, e.g. 127.0.0.1:2223)' }),
        },
        'with desk.listenIn: an admin listens to a kiosk\'s call that another desk answered, through a copy of its media at rtpengine (ng subscribe); the kiosk is not involved',
      ),
    ),
    quickReplies: Type.Optional(
      Type.Array(Strict({ id: Id, text: Text }), { maxItems: 40, description: 'chat replies offered to the dispatcher, sent in the caller\'s language (default: a built-in set in en and zh-CN)' }),
    ),
    claimLapseS: Type.Integer({
      minimum: 3,
      maximum: 300,
      default: 15,
      description: 'a claim on an alarm that never turned into a call with the claiming desk lapses when the alarm rings again this long after the claim',
    }),
  },
  'console desks: dispatchers answer alarms in the browser',
);

export const HubSupervision = Strict(
  {
    answererUser: Type.String({ minLength: 1, default: 'test-answerer', description: 'the SIP user the test answerer registers as (kiosks call it for their test calls)' }),
    answerer: Type.Optional(
      Strict(
        {
          account: Type.Optional(Account),
          localHost: Type.String({ default: '127.0.0.1', description: 'address the answerer\'s SIP and RTP bind to' }),
          localPort: Type.Optional(Port),
          rtpPortRange: Type.Optional(Strict({ min: Port, max: Port })),
          codecs: Type.Array(Type.Union([Type.Literal('G722'), Type.Literal('PCMU'), Type.Literal('PCMA')]), { default: ['PCMU', 'PCMA', 'G722'] }),
          toneTimeoutMs: Type.Integer({ minimum: 500, maximum: 30000, default: 4000, description: 'audio-out=fail is sent when the kiosk\'s tone was not heard this long after the answer' }),
        },
        'the test answerer: the hub\'s SIP endpoint answering kiosks\' test calls (without an account: unregistered, user answererUser, reached at localHost:localPort)',
      ),
    ),
    defaultIntervalS: Type.Integer({ minimum: 10, default: 259200, description: 'test interval assumed for a kiosk that has not reported its own yet' }),
    graceS: Type.Integer({ minimum: 0, default: 3600, description: 'grace for a kiosk that has not reported its own (the kiosk reports its supervision.graceS with each verdict): a kiosk whose last passed test is older than its interval plus the grace raises an overdue alarm' }),
    overdueCheckS: Type.Integer({ minimum: 1, maximum: 3600, default: 30, description: 'how often the hub looks for overdue kiosks' }),
    metricsTokenSha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the bearer token a Prometheus server presents at /metrics (besides admin and facilities sessions)' })),
  },
  'supervision at the hub: the test answerer, overdue tests, metrics',
);

export const HubConfigSchema = Strict(
  {
    $schema: Type.Optional(Type.String()),
    id: Id,
    listen: Listen,
    tls: Type.Optional(Strict({ cert: Type.String(), key: Type.String() })),
    dataDir: Type.String({ default: 'var/hub' }),
    binaries: Type.Optional(
      Strict(
        {
          dir: Type.String({ minLength: 1, description: 'folder laid out as native/dsp/scripts/prebuild.sh writes it (v<version>/<tarball>), relative to this file; served read-only at /native/ so kiosks without internet install the echo canceller prebuilt (HELPPOINT_DSP_BINARY_HOST=http://hub:8080/native/)' }),
        },
        'the binary host for the kiosks\' native addon; without it the hub serves native/dsp/prebuilt of its own installation when that folder exists',
      ),
    ),
    log: Strict({ level: LogLevel }),
    site: Site,
    kiosks: Type.Array(HubKiosk),
    pa: Type.Optional(HubPa),
    users: Type.Array(HubUser, { minItems: 1 }),
    offlineAfterS: Type.Integer({ minimum: 1, default: 10 }),
    rebootTimeoutS: Type.Integer({
      minimum: 1,
      maximum: 86_400,
      default: 600,
      description: 'a kiosk asked to reboot its board (kiosk.reboot) has this long to come back with another boot id; else the reboot is recorded as not back',
    }),
    desk: Type.Optional(HubDesk),
    supervision: Type.Optional(HubSupervision),
    database: Type.Optional(
      Strict(
        {
          url: Type.Optional(Type.String({ pattern: '^postgres(ql)?://', description: 'PostgreSQL server (several hub instances share one); without it the hub keeps an embedded PGlite database in dataDir' })),
          poolSize: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
        },
        'where the hub keeps its data',
      ),
    ),
    console: Type.Optional(
      Strict(
        {
          sessionTtlS: Type.Integer({ minimum: 60, maximum: 7 * 86400, default: 12 * 3600, description: 'a console session expires this long after log-in' }),
          loginPerUserPerMin: Type.Integer({ minimum: 1, default: 10, description: 'log-in attempts per user name and minute' }),
          loginPerAddressPerMin: Type.Integer({ minimum: 1, default: 30, description: 'log-in attempts per client address and minute' }),
          trustProxy: Type.Boolean({ default: false, description: 'take the client address from X-Forwarded-For (only behind your own load balancer)' }),
          hashThreads: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 64, description: 'password hashes computed at once (the others wait in arrival order); default: the number of cores, at most the libuv thread pool minus one' }),
          ),
        },
        'console log-in and sessions',
      ),
    ),
    events: Type.Optional(
      Strict(
        {
          perKioskMax: Type.Integer({ minimum: 100, default: 100000, description: 'events kept per kiosk (the oldest go first), so a noisy kiosk cannot evict the records of another' }),
          maxAgeDays: Type.Optional(Type.Integer({ minimum: 1, description: 'events older than this are deleted' })),
        },
        'kiosk event retention',
      ),
    ),
  },
  'help-point hub configuration',
);

export type HubConfig = Static<typeof HubConfigSchema>;
