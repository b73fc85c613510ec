// A Content-Disposition sip.js cannot parse made it throw while answering an
// INVITE, outside any caller of ours (found by fuzz.test.ts): the transports
// drop such a message as garbage before sip.js sees it.
import { strict as assert } from 'node:assert';
import { badContentDisposition } from '../../src/intercom/transports/base.js';

const invite = (disposition?: string) =>
  ['INVITE sip:conc-north@127.0.0.1 SIP/2.0', ...(disposition === undefined ? [] : [`Content-Disposition: ${disposition}`]), 'Content-Type: application/sdp', '', 'v=0'].join('\r\n');

describe('transports: Content-Disposition screen', () => {
  it('passes a parsable or absent Content-Disposition, drops one sip.js cannot parse', () => {
    assert.equal(badContentDisposition(invite()), false);
    assert.equal(badContentDisposition(invite('session')), false);
    assert.equal(badContentDisposition(invite('render;handling=optional')), false);
    assert.equal(badContentDisposition(invite(';;\u0001')), true);
    assert.equal(badContentDisposition(invite('')), true);
  });
});
