// What a press means. Idle: emergency or information starts a call. During a
// call: no new call (the press is logged as ignored); cancel asks to end the
// call; holding emergency for io.upgradeHoldMs during an information call
// upgrades it to an emergency call. Tamper can play a warning and/or call the
// desk. Everything here only emits intents; the intercom decides.
import type { Bus } from '../core/bus.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import type { CallKind, CallState } from '../intercom/events.js';

const ACTIVE: readonly CallState[] = ['calling', 'ringing', 'queued', 'connected', 'held'];
/** After a request, presses count as "during a call" until the intercom reports, at most this long. */
const REQUEST_GRACE_MS = 3000;

export class ButtonActions {
  private call: { callId: string; kind: CallKind } | null = null;
  private requestedAt = 0;
  private upgradeTimer?: NodeJS.Timeout;

  constructor(
    private readonly bus: Bus,
    private readonly config: () => KioskConfig,
  ) {
    bus.on('call.state', (e) => {
      if (e.incoming && e.state === 'ringing') return; // a call ringing at the kiosk does not block its buttons
      if (ACTIVE.includes(e.state)) this.call = { callId: e.callId, kind: e.kind };
      else if (this.call?.callId === e.callId) this.call = null;
      this.requestedAt = 0;
    });
    bus.on('button.press', (e) => this.press(e.button, e.edgeNs));
    bus.on('button.release', (e) => {
      if (e.button === 'emergency') clearTimeout(this.upgradeTimer);
    });
    bus.on('input.tamper', (e) => e.active && this.tamper());
  }

  private busy(): boolean {
    return this.call !== null || Date.now() - this.requestedAt < REQUEST_GRACE_MS;
  }

  private press(button: 'emergency' | 'information' | 'cancel', edgeNs: bigint): void {
    if (button === 'cancel') {
      if (this.busy()) this.bus.emit('call.cancel', { source: 'button' });
      else this.bus.emit('button.ignored', { button, reason: 'no call to cancel' });
      return;
    }
    if (!this.busy()) {
      this.requestedAt = Date.now();
      this.bus.emit('call.requested', { kind: button, source: 'button', edgeNs });
      return;
    }
    const call = this.call;
    if (button === 'emergency' && call?.kind === 'information') {
      clearTimeout(this.upgradeTimer);
      this.upgradeTimer = setTimeout(() => {
        if (this.call?.callId === call.callId) this.bus.emit('call.upgrade', { callId: call.callId });
      }, this.config().io.upgradeHoldMs);
      this.bus.emit('button.ignored', { button, reason: `information call active: hold ${this.config().io.upgradeHoldMs} ms to upgrade` });
      return;
    }
    this.bus.emit('button.ignored', { button, reason: 'a call is already active' });
  }

  private tamper(): void {
    const t = this.config().io.tamper;
    if (t?.playWarning !== false) this.bus.emit('pa.play', { id: `tamper-${Date.now()}`, channel: 'announcement', message: 'tamper-warning', chime: false });
    if (t?.callDesk && !this.busy()) {
      this.requestedAt = Date.now();
      this.bus.emit('call.requested', { kind: 'emergency', category: 'tamper', source: 'tamper' });
    }
  }

  stop(): void {
    clearTimeout(this.upgradeTimer);
  }
}
