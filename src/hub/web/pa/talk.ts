// Hold to talk: the console asks the hub for a live page (zones, emergency),
// then its browser phone (the desk's DeskPhone: sip.js on WebRTC) calls the
// hub's page gateway with the page's one-time token. The chime plays first;
// the feed says when the page is live ("speak now"). Releasing Talk hangs up,
// which ends the page on every kiosk.
import { DeskPhone, type PhoneError } from '../desk/phone.js';
import type { AudioMeter } from '../desk/meter.js';
import { ApiError, post, toast } from './api.js';

/** Where the browser phone registers (from the hub) and with which account (from the dispatcher). */
export interface BrowserSip {
  wsUrl: string;
  domain: string;
  user?: string;
}
export interface SipAccount {
  user: string;
  password: string;
}

export type TalkState = 'off' | 'idle' | 'starting' | 'chime' | 'live' | 'ending';

interface LivePage {
  id: string;
  token: string;
  target: string;
  header: string;
  chimeMs: number;
}

export class Talk {
  private phone?: DeskPhone;
  private callId?: string;
  private page?: LivePage;
  private held = false;
  state: TalkState = 'off';
  /** the page in progress (receipts follow it) */
  onPage?: (id: string) => void;

  constructor(
    private readonly sip: BrowserSip & SipAccount,
    private readonly zones: () => string[],
    private readonly emergency: () => boolean,
    private readonly show: (state: TalkState, text: string) => void,
  ) {}

  /** Registers the browser phone (again, with other audio settings). */
  async start(audioProcessing: boolean): Promise<void> {
    await this.phone?.stop().catch(() => undefined);
    const phone = new DeskPhone({ ...this.sip, audioProcessing });
    this.phone = phone;
    phone.on('established', (c) => {
      if (c.id !== this.callId) return;
      this.set('chime', 'Chime playing: wait, then speak.');
      if (!this.held) void this.release();
    });
    phone.on('ended', (c) => {
      if (c.id !== this.callId) return;
      this.callId = undefined;
      const why = c.endReason && !/hung up/.test(c.endReason) ? ` (${c.endReason})` : '';
      this.set('idle', `Page ended${why}. Choose zones, then hold Talk.`);
    });
    phone.on('error', (e) => {
      if (e.code === 'transport') this.set('off', 'Connection to the SIP server lost: reconnecting…');
    });
    phone.on('registered', (r) => {
      if (r.registered && this.state === 'off') this.set('idle', 'Choose zones, then hold Talk.');
    });
    this.set('off', 'Connecting the microphone line…');
    await phone.start();
    this.set('idle', 'Choose zones, then hold Talk.');
  }

  /** Talk pressed (or latched on). */
  async press(): Promise<void> {
    if (this.state !== 'idle') return;
    this.held = true;
    const zones = this.zones();
    if (zones.length === 0) {
      toast('Choose at least one zone first.', true);
      return;
    }
    this.set('starting', `Connecting to ${zones.join(', ')}…`);
    try {
      const page = await post<LivePage>('/api/pa/live', { zones, emergency: this.emergency() });
      this.page = page;
      this.onPage?.(page.id);
      this.callId = await this.phone!.dial(page.target, { headers: [`${page.header}: ${page.token}`] });
      if (!this.held) await this.release();
    } catch (err) {
      const e = err as ApiError | PhoneError;
      this.callId = undefined;
      this.set('idle', `Cannot talk: ${e.message}`);
      toast(`Cannot talk: ${e.message}`, true);
    }
  }

  /** Talk released (or latched off): the page ends. */
  async release(): Promise<void> {
    this.held = false;
    if (!this.callId) return; // still asking the hub: press() hangs up once the call exists
    this.set('ending', 'Ending the page…');
    await this.phone?.hangup(this.callId).catch(() => undefined);
  }

  /** A meter on the page's microphone ('local') while talking: the console's level display and the benchmark use it. */
  meter(which: 'local' | 'remote' = 'local'): Promise<AudioMeter> {
    if (!this.phone || !this.callId) return Promise.reject(new Error('not talking'));
    return this.phone.meter(this.callId, which);
  }

  /** The feed said what the page is doing. */
  pageEvent(e: { id: string; state: 'chime' | 'live' | 'ended'; reason?: string }): void {
    if (!this.page || e.id !== this.page.id) return;
    if (e.state === 'live' && this.callId) this.set('live', this.emergency() ? 'EMERGENCY PAGE LIVE: speak now.' : 'Live: speak now.');
    if (e.state === 'chime' && this.callId) this.set('chime', 'Chime playing: wait, then speak.');
  }

  private set(state: TalkState, text: string): void {
    this.state = state;
    this.show(state, text);
  }
}
