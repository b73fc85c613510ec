// Listening to a call another desk answered: a receive-only WebRTC peer of
// rtpengine, not a SIP call (the hub asked rtpengine for a copy of the call's
// media; the kiosk and the answering desk see nothing). The offer carries one
// send-only stream per side of the call; this page plays them all.
import { AudioMeter } from './meter.js';

/** as the desk phone's calls: see docs/desk-media.md (rtpengine answers a=mid without BUNDLE; no STUN on a closed network) */
const ICE_GATHER_MS = 500;

type Sinkable = HTMLAudioElement & { setSinkId?: (id: string) => Promise<void> };

export class Listener {
  private readonly pc = new RTCPeerConnection({ bundlePolicy: 'max-compat', rtcpMuxPolicy: 'require', iceServers: [] });
  /** one <audio> element per side: Chromium decodes a received track only where it plays */
  private readonly audios: Sinkable[] = [];
  private speaker = '';
  private ctx?: AudioContext;

  constructor(private readonly parent: HTMLElement = document.body) {
    this.pc.ontrack = (e) => {
      const audio = document.createElement('audio') as Sinkable;
      audio.autoplay = true;
      audio.dataset.listen = String(this.audios.length);
      audio.srcObject = new MediaStream([e.track]);
      if (this.speaker) void audio.setSinkId?.(this.speaker).catch(() => {});
      this.parent.appendChild(audio);
      this.audios.push(audio);
    };
  }

  /** Takes rtpengine's offer, resolves with this page's answer (receive-only, ICE candidates included). */
  async answer(offer: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp: offer });
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    await new Promise<void>((resolve) => {
      if (this.pc.iceGatheringState === 'complete') return resolve();
      const t = setTimeout(resolve, ICE_GATHER_MS);
      this.pc.addEventListener('icegatheringstatechange', () => {
        if (this.pc.iceGatheringState === 'complete') {
          clearTimeout(t);
          resolve();
        }
      });
    });
    return this.pc.localDescription!.sdp;
  }

  /** The page's speaker choice ('' or 'default': the system's default output). */
  async setSpeaker(id: string): Promise<void> {
    this.speaker = id === 'default' ? '' : id;
    for (const a of this.audios) await a.setSinkId?.(this.speaker);
  }

  /** The sides received so far, in the offer's order: the kiosk, then the answering desk. */
  get sides(): number {
    return this.pc.getTransceivers().filter((t) => t.receiver.track).length;
  }

  /** A meter on one side of the call (0: the kiosk, 1: the answering desk). */
  meter(side = 0): AudioMeter {
    const t = this.pc.getTransceivers()[side];
    if (!t) throw new Error(`no side ${side} in this listen-in`);
    this.ctx ??= new AudioContext();
    return new AudioMeter(this.ctx, new MediaStream([t.receiver.track]));
  }

  /** Received packets per side, for the page's tests. */
  async packets(): Promise<number[]> {
    const out: number[] = [];
    (await this.pc.getStats()).forEach((s: Record<string, unknown>) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') out.push(Number(s.packetsReceived ?? 0));
    });
    return out;
  }

  close(): void {
    this.pc.close();
    for (const a of this.audios) {
      a.srcObject = null;
      a.remove();
    }
    void this.ctx?.close().catch(() => {});
  }
}
