// The call and paging codecs. G.711 is stateless; G.722 keeps ADPCM state, so
// every RTP stream makes its own instance.
import { PCMA, PCMU, type Codec } from './g711.js';
import { g722 } from './g722.js';

export type { Codec } from './g711.js';
export type CodecName = Codec['name'];

export const CODECS: Record<CodecName, () => Codec> = {
  G722: g722,
  PCMU: () => PCMU,
  PCMA: () => PCMA,
};

/** Every codec we carry uses an 8 kHz RTP clock (G.722 too, by RFC 3551). */
export const RTP_CLOCK = 8000;
