import { strict as assert } from 'node:assert';
import sdpTransform from 'sdp-transform';
import { CODECS, RTP_CLOCK, type Codec } from '../../src/audio/codecs/index.js';
import { buildSdp, negotiate, type Direction, type LocalMedia } from '../../src/intercom/media/sdp.js';

/** What sdp-transform's writer makes of the same description (buildSdp's text before it was written directly). */
function transformSdp(m: LocalMedia, only?: { codec: Codec; payloadType: number; dtmfPt?: number }): string {
  const codecs = only ? [{ codec: only.codec, pt: only.payloadType }] : m.codecs.map((c) => ({ codec: c, pt: c.payloadType }));
  const dtmfPt = only ? only.dtmfPt : m.dtmfPt;
  const rtp: { payload: number; codec: string; rate: number }[] = codecs.map(({ codec, pt }) => ({ payload: pt, codec: codec.name, rate: RTP_CLOCK }));
  const fmtp: { payload: number; config: string }[] = [];
  if (dtmfPt !== undefined) {
    rtp.push({ payload: dtmfPt, codec: 'telephone-event', rate: 8000 });
    fmtp.push({ payload: dtmfPt, config: '0-16' });
  }
  return sdpTransform.write({
    version: 0,
    origin: { username: '-', sessionId: m.sessionId, sessionVersion: m.version, netType: 'IN', ipVer: 4, address: m.address },
    name: 'helppoint',
    connection: { version: 4, ip: m.address },
    timing: { start: 0, stop: 0 },
    media: [{ type: 'audio', port: m.port, protocol: 'RTP/AVP', payloads: rtp.map((r) => r.payload).join(' '), rtp, fmtp, ptime: 20, direction: m.direction }],
  } as sdpTransform.SessionDescription);
}

describe('SDP', () => {
  const all = [CODECS.PCMU(), CODECS.PCMA(), CODECS.G722()];
  const dirs: Direction[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];
  it('our offer and answer are the text sdp-transform writes for them', () => {
    for (const codecs of [all, [all[0]!], [all[2]!, all[1]!]])
      for (const direction of dirs)
        for (const dtmfPt of [101, 96]) {
          const m: LocalMedia = { address: '192.0.2.7', port: 40002, codecs, dtmfPt, direction, sessionId: 123456789, version: 3 };
          assert.equal(buildSdp(m), transformSdp(m));
          for (const only of [{ codec: codecs[0]!, payloadType: codecs[0]!.payloadType, dtmfPt }, { codec: codecs[0]!, payloadType: 97 }])
            assert.equal(buildSdp(m, only), transformSdp(m, only));
        }
  });

  it('our offer reads back as itself', () => {
    const sdp = buildSdp({ address: '127.0.0.1', port: 40000, codecs: all, dtmfPt: 101, direction: 'sendrecv', sessionId: 1, version: 0 });
    const n = negotiate(sdp, all, true);
    assert.deepEqual([n.codec.name, n.payloadType, n.dtmfPt, n.remote, n.remoteDirection], ['PCMU', 0, 101, { host: '127.0.0.1', port: 40000 }, 'sendrecv']);
  });
});
