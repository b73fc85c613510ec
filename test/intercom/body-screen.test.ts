// sip.js throws, outside any caller of ours, on a body whose disposition it
// cannot work out: an unparsable Content-Disposition, or a body with no
// Content-Type (both found by fuzz.test.ts, each ended the kiosk). The
// transports drop such a message as garbage before sip.js sees it.
import { strict as assert } from 'node:assert';
import { bodyProblem } from '../../src/intercom/transports/base.js';

const message = (headers: string[], body = 'v=0\r\n') => ['INVITE sip:conc-north@127.0.0.1 SIP/2.0', 'Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK1', ...headers, '', body].join('\r\n');

describe('transports: body screen', () => {
  it('passes a parsable or absent Content-Disposition, drops one sip.js cannot parse', () => {
    assert.equal(bodyProblem(message(['Content-Type: application/sdp'])), undefined);
    assert.equal(bodyProblem(message(['Content-Disposition: session', 'Content-Type: application/sdp'])), undefined);
    assert.equal(bodyProblem(message(['Content-Disposition: render;handling=optional', 'Content-Type: text/plain'])), undefined);
    assert.equal(bodyProblem(message(['Content-Disposition: ;;\u0001', 'Content-Type: application/sdp'])), 'unparsable Content-Disposition');
    assert.equal(bodyProblem(message(['Content-Disposition: ', 'Content-Type: application/sdp'])), 'unparsable Content-Disposition');
  });

  it('drops a body without Content-Type, passes one with the compact form or no body at all', () => {
    assert.equal(bodyProblem(message([])), 'a body without Content-Type');
    assert.equal(bodyProblem(message(['Content-Disposition: session'])), 'a body without Content-Type');
    assert.equal(bodyProblem(message(['Content-Length: 5'])), 'a body without Content-Type');
    assert.equal(bodyProblem(message(['c: application/sdp'])), undefined);
    assert.equal(bodyProblem(message(['Content-Length: 0'])), undefined, 'Content-Length 0: sip.js ignores what follows');
    assert.equal(bodyProblem(message(['l: 0'])), undefined);
    assert.equal(bodyProblem(message([], '')), undefined, 'no body');
    assert.equal(bodyProblem('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK1\r\n\r\nv=0\r\n'), 'a body without Content-Type', 'responses too');
    assert.equal(bodyProblem('OPTIONS sip:x SIP/2.0\r\nVia: x'), undefined, 'no header end: left to sip.js');
  });
});
