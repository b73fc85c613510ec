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

export const Target = Strict({
  uri: SipUri,
  ringTimeoutS: Type.Number({ exclusiveMinimum: 0, maximum: 300, default: 15 }),
  name: Type.Optional(Type.String()),
});

export const Sip = Strict(
  {
    localPort: Type.Optional(Port),
    localHost: Type.String({ default: '127.0.0.1', description: 'address SIP and RTP bind to' }),
    transport: Type.Union([Type.Literal('udp'), Type.Literal('tcp'), Type.Literal('tls')], {
      default: 'udp',
      description: 'transport for registrarless calls (with registrars, the primary registrar\'s transport is used)',
    }),
    account: Account,
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
    callTimeLimitS: Type.Integer({ minimum: 0, default: 0, description: '0: no limit' }),
    autoAnswerFrom: Type.Array(Type.String(), { default: [], description: 'SIP URIs or user@host patterns allowed to auto-answer' }),
    doorDtmf: Type.String({ pattern: '^[0-9*#A-D]{1,8}$', default: '*1' }),
    codecs: Type.Array(Type.Union([Type.Literal('G722'), Type.Literal('PCMU'), Type.Literal('PCMA')]), {
      default: ['G722', 'PCMU', 'PCMA'],
    }),
    rtpPortRange: Type.Optional(Strict({ min: Port, max: Port })),
    category: Type.Optional(Id),
  },
  'SIP intercom',
);
