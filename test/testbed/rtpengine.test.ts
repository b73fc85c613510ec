// The WebRTC half of the test bed: rtpengine in userspace, ready when it
// answers an ng ping, stopped by PID; Kamailio with the rtpengine module,
// which leaves calls between plain SIP phones alone (direct RTP).
import { strict as assert } from 'node:assert';
import { startRtpengine } from '../../src/testbed/rtpengine.js';
import { startKamailio } from '../../src/testbed/kamailio.js';
import { startBaresip } from '../../src/testbed/baresip.js';
import { stopAll } from '../../src/testbed/proc.js';
import { until } from '../helpers/tmp.js';

const PLAIN_OFFER = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv', ''].join('\r\n');

describe('test bed: rtpengine and Kamailio bridging WebRTC', function () {
  this.timeout(40_000);
  after(() => stopAll());

  it('rtpengine runs in userspace, answers an ng ping, turns a plain offer into a WebRTC one, and stops by PID', async () => {
    const rtpe = await startRtpengine();
    assert.equal(await rtpe.ng.ping(), true);
    const offer = await rtpe.ng.request('offer', {
      sdp: PLAIN_OFFER,
      'call-id': 'bed-probe-1',
      'from-tag': 'caller1',
      ICE: 'force',
      'transport-protocol': 'RTP/SAVPF',
      'rtcp-mux': ['offer'],
      flags: ['generate-mid'],
      SDES: ['off'],
      replace: ['origin', 'session-connection'],
    });
    assert.equal(offer.result, 'ok', JSON.stringify(offer));
    const sdp = String(offer.sdp);
    assert.match(sdp, /m=audio (\d+) (UDP\/TLS\/)?RTP\/SAVPF 0 101/);
    assert.match(sdp, /a=candidate:.* 127\.0\.0\.1 \d+ typ host/);
    assert.match(sdp, /a=fingerprint:sha-256 /);
    assert.match(sdp, /a=rtcp-mux/);
    const port = Number(/m=audio (\d+)/.exec(sdp)![1]);
    assert.ok(port >= rtpe.portMin && port <= rtpe.portMax, `port ${port} outside ${rtpe.portMin}-${rtpe.portMax}`);
    assert.equal((await rtpe.ng.request('delete', { 'call-id': 'bed-probe-1', 'from-tag': 'caller1' })).result, 'ok');
    const pid = rtpe.proc.pid;
    await rtpe.stop();
    assert.throws(() => process.kill(pid, 0));
  });

  it('Kamailio with rtpengine keeps calls between plain SIP phones on direct RTP', async () => {
    const rtpengine = await startRtpengine();
    const kam = await startKamailio({ users: { a: 'pass-a', b: 'pass-b' }, rtpengine });
    const reg = (user: string, password: string) => ({ uri: `sip:127.0.0.1:${kam.port}`, domain: '127.0.0.1', password });
    const callee = await startBaresip({ user: 'b', registrar: reg('b', 'pass-b') });
    const caller = await startBaresip({ user: 'a', registrar: reg('a', 'pass-a'), autoAnswer: false });
    await until(async () => /OK/.test((await callee.command('reginfo')).data) && /OK/.test((await caller.command('reginfo')).data), 10_000, 'both registered');
    await caller.command('dial', 'sip:b@127.0.0.1');
    await caller.proc.waitFor(/Call established/, 10_000);
    await caller.command('hangup');
    assert.doesNotMatch(rtpengine.proc.output(), /Received command '(offer|answer)'/);
    // rtpengine was up before Kamailio: the module never marked it dead.
    assert.match(kam.proc.output(), /rtpengine instance <udp:127\.0\.0\.1:\d+> found, support for it enabled/);
    assert.doesNotMatch(kam.proc.output(), /did not respond to ping/);
  });
});
