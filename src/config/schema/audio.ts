import { Type } from '@sinclair/typebox';
import { Id, Port, Strict } from './common.js';

const ChannelName = Type.Union([Type.Literal('emergency'), Type.Literal('page'), Type.Literal('call'), Type.Literal('announcement'), Type.Literal('music')]);
const Lang = Type.Union([Type.Literal('zh-CN'), Type.Literal('en')]);

/** The hands-free path: what happens to the microphone before it goes to the desk. */
export const HandsFree = Type.Object(
  {
    mode: Type.Union([Type.Literal('aec'), Type.Literal('half-duplex'), Type.Literal('off')], {
      default: 'aec',
      description:
        'aec: full duplex with the echo canceller (the loudspeaker signal the mixer sends is the reference); half-duplex: the microphone is muted while the loudspeaker carries the far end (hardware with bad acoustics); off: the microphone as it is',
    }),
    tailMs: Type.Integer({ minimum: 16, maximum: 512, default: 128, description: 'echo tail the canceller models (loudspeaker-to-microphone delay plus reverberation), ms' }),
    delayMs: Type.Integer({
      minimum: 0,
      maximum: 500,
      default: 0,
      description: 'bulk delay of the echo path outside the room (output plus capture buffering), taken off before the tail; leave 0 unless measured',
    }),
    noiseSuppression: Type.Boolean({ default: true, description: 'suppress stationary noise on the microphone (traffic, fans)' }),
    noiseSuppressDb: Type.Integer({ minimum: -60, maximum: 0, default: -15, description: 'most the noise suppressor attenuates, dB' }),
    agc: Type.Boolean({ default: true, description: 'automatic gain on the microphone (a caller near or far from the grille)' }),
    agcLevelDbfs: Type.Number({ minimum: -40, maximum: -3, default: -18, description: 'speech level the gain control aims at, dBFS RMS' }),
    agcMaxGainDb: Type.Integer({ minimum: 0, maximum: 40, default: 20, description: 'most gain the gain control applies, dB' }),
    echoSuppressDb: Type.Integer({ minimum: -90, maximum: 0, default: -40, description: 'residual echo attenuation while only the far end talks, dB' }),
    echoSuppressActiveDb: Type.Integer({ minimum: -90, maximum: 0, default: -15, description: 'residual echo attenuation while both talk, dB (closer to 0 keeps more of the caller)' }),
    halfDuplexThresholdDbfs: Type.Number({ maximum: 0, default: -45, description: 'half-duplex: loudspeaker level above which the microphone is muted, dBFS' }),
    halfDuplexHangoverMs: Type.Integer({ minimum: 0, maximum: 2000, default: 200, description: 'half-duplex: the microphone stays muted this long after the loudspeaker falls silent' }),
  },
  { additionalProperties: false, default: {}, description: 'hands-free audio: echo cancelling, noise suppression and gain on the microphone' },
);

export const Audio = Strict(
  {
    output: Strict({
      sink: Type.Union([Type.Literal('alsa'), Type.Literal('file'), Type.Literal('null')], { default: 'alsa' }),
      device: Type.String({ default: 'default', description: 'ALSA device name' }),
      file: Type.Optional(Type.String({ description: 'file sink: raw PCM or WAV path' })),
      rate: Type.Union([Type.Literal(8000), Type.Literal(16000), Type.Literal(48000)], { default: 16000 }),
      frameMs: Type.Optional(Type.Union([Type.Literal(10), Type.Literal(20)], { description: 'mixer frame length; default 10 ms' })),
    }),
    input: Strict({
      source: Type.Union([Type.Literal('alsa'), Type.Literal('file'), Type.Literal('silence'), Type.Literal('room')], {
        default: 'alsa',
        description: 'alsa: the microphone; file: a WAV played as the microphone; silence; room: a simulated room (the sim driver\'s microphone hears the loudspeaker through audio.input.room, plus the file as the near-end talker)',
      }),
      device: Type.String({ default: 'default' }),
      file: Type.Optional(Type.String({ description: 'file source: a WAV played as the microphone (looped); room source: the near-end talker' })),
      room: Type.Optional(
        Strict(
          {
            delayMs: Type.Optional(Type.Number({ minimum: 0, maximum: 500, description: 'loudspeaker to microphone delay; default 20' })),
            tailMs: Type.Optional(Type.Number({ minimum: 1, maximum: 1000, description: 'length of the reverberation tail (60 dB decay); default 100' })),
            gain: Type.Optional(Type.Number({ minimum: 0, maximum: 4, description: 'echo gain, loudspeaker to microphone; default 0.5' })),
            clip: Type.Optional(Type.Number({ minimum: 0.05, maximum: 1, description: 'loudspeaker clipping point as a share of full scale; default 0.5' })),
            noiseDbfs: Type.Optional(Type.Number({ maximum: 0, description: 'microphone noise floor; default -70' })),
          },
          'the simulated room of the room source',
        ),
      ),
    }),
    handsFree: HandsFree,
    volume: Type.Number({ minimum: 0, maximum: 1, default: 0.8 }),
  },
  'audio devices',
);

export const Pa = Strict(
  {
    chime: Type.Boolean({ default: true }),
    languages: Type.Optional(Type.Array(Lang, { minItems: 1, uniqueItems: true, description: 'languages of the bundled messages, spoken in this order; default zh-CN then en' })),
    multicast: Type.Array(
      Strict({
        group: Type.String({ format: 'ipv4' }),
        port: Port,
        priority: Type.Integer({ minimum: 1, maximum: 255 }),
        zone: Type.Optional(Id),
        emergency: Type.Optional(Type.Boolean({ description: 'pages on this group use the emergency channel (mute the call, own volume)' })),
        interface: Type.Optional(Type.String({ format: 'ipv4', description: 'local address to join the group on; default any' })),
        l16Rate: Type.Optional(Type.Integer({ minimum: 8000, maximum: 48000, description: 'rate of L16 on dynamic payload types; default 16000' })),
      }),
      { default: [], description: 'RTP paging groups (PCMU, PCMA, G.722, L16)' },
    ),
    hubPages: Type.Optional(
      Strict(
        {
          interface: Type.Optional(Type.String({ format: 'ipv4', description: "local address to join the hub's page groups on; default: that of the first multicast group above, else any" })),
          multicast: Type.Optional(Type.Boolean({ description: 'false: this kiosk cannot take multicast (another VLAN, no IGMP); hub pages always come by unicast. Default true' })),
          unicastPort: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: 'UDP port for pages sent to this kiosk alone (the multicast fallback); 0 picks a free one. Absent: no fallback' })),
          unicastHost: Type.Optional(Type.String({ format: 'ipv4', description: 'local address of the unicast port; default any' })),
          missAfterMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 10000, description: 'a page announced by the hub that has not arrived by then is reported missed; default 1000' })),
        },
        "live pages from the hub's page gateway (announced over the hub link, audio by multicast RTP, unicast as the fallback)",
      ),
    ),
    schedule: Type.Array(
      Strict({
        cron: Type.String({ description: 'minute hour day-of-month month day-of-week' }),
        message: Type.String(),
        repeat: Type.Optional(Type.Integer({ minimum: 1, description: 'times played' })),
        intervalS: Type.Optional(Type.Number({ minimum: 0, description: 'pause between repeats' })),
        channel: Type.Optional(ChannelName),
        chime: Type.Optional(Type.Boolean()),
      }),
      { default: [] },
    ),
    music: Type.Optional(
      Strict(
        {
          playlist: Type.Array(Type.String({ minLength: 1 }), { description: 'WAV files, relative to the config folder' }),
          volume: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
          shuffle: Type.Optional(Type.Boolean()),
        },
        'background music',
      ),
    ),
    volume: Type.Optional(
      Strict(
        {
          zones: Type.Optional(Type.Record(Type.String(), Type.Number({ minimum: 0, maximum: 1 }), { description: 'volume by zone id' })),
          times: Type.Optional(
            Type.Array(
              Strict({
                from: Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' }),
                to: Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' }),
                volume: Type.Number({ minimum: 0, maximum: 1 }),
              }),
              { description: 'volume by time of day (site time zone); later entries win' },
            ),
          ),
          adaptive: Type.Optional(
            Strict(
              {
                min: Type.Number({ minimum: 0, maximum: 1 }),
                max: Type.Number({ minimum: 0, maximum: 1 }),
                quietDbfs: Type.Optional(Type.Number({ maximum: 0, description: 'ambient level that gives min; default -60' })),
                loudDbfs: Type.Optional(Type.Number({ maximum: 0, description: 'ambient level that gives max; default -25' })),
              },
              'follow ambient noise measured by the microphone while idle',
            ),
          ),
        },
        'announcement volume',
      ),
    ),
    rules: Type.Optional(
      Type.Array(
        Strict({
          over: ChannelName,
          under: ChannelName,
          action: Type.Union([Type.Literal('mix'), Type.Literal('duck'), Type.Literal('mute'), Type.Literal('pause'), Type.Literal('stop')]),
        }),
        {
          description:
            'what a higher channel does to a lower one (pause: a stored announcement or music holds its place and carries on afterwards); defaults: emergency mutes call, pauses announcement and music; page mixes into call; else duck',
        },
      ),
    ),
    duckLevel: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'share of its volume a ducked stream keeps; default 0.2' })),
    fadeMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 5000, description: 'duck/mute/resume fade; default 250' })),
    emergencyVolume: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'volume of the emergency channel; default 1' })),
  },
  'public address',
);
