// The RTP socket kinds a media test runs with (rtp-socket.ts): Node's dgram
// socket always, and the addon's polled socket the kiosk's calls use when the
// addon is installed (the test set-up installs it; without it that kind is skipped
// by name, not silently).
import { dspOrUndefined } from '../../src/dsp/native.js';
import type { RtpSocketKind } from '../../src/intercom/media/rtp-socket.js';

export const RTP_KINDS: RtpSocketKind[] = ['node', 'poll'];

/** Skips a poll-socket case when the addon is missing (the reason in the test's title). */
export function needsKind(ctx: Mocha.Context, kind: RtpSocketKind): void {
  if (kind === 'poll' && !dspOrUndefined()?.UdpSocket) ctx.skip();
}
