// What a press means. Emergency: always asks for an alarm ('call.requested'),
// whatever else is going on; the alarm controller decides and says why when
// it does not act (an alarm is already open). Held for io.upgradeHoldMs during
// an information call, it upgrades that call ('call.upgrade'); a tap during
// one is ignored with a hint. Information: starts a call when no call and no
// alarm is in progress. Tamper plays a warning. Cancel asks to end the call in progress. Everything
// here only emits intents; the alarm and the intercom decide. Nothing here can
// stay "busy": emergency presses never wait on a state, and an information
// request blocks only until the intercom reports (at most REQUEST_GRACE_MS).
import type { Bus } from '../core/bus.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import type { CallKind, CallState } from '../intercom/events.js';

const ACTIVE: readonly CallState[] = ['calling', 'ringing', 'queued', 'connected', 'held'];
/** After an information request, presses count as "during a call" until the intercom reports, at most this long. */
const REQUEST_GRACE_MS = 3000;

export class ButtonActions {
  /** calls in progress by id (their latest state), from 'call.state' */
  private readonly calls = new Map<string, CallKind>();
  private alarmOpen = false;
  private requestedAt = 0;
  private upgradeTimer?: NodeJS.Timeout;

  constructor(
    private readonly bus: Bus,
    private readonly config: () => KioskConfig,
  ) {
    bus.on('call.state', (e) => {
      if (e.incoming && e.state === 'ringing') return; // a call ringing at the kiosk does not block its buttons
      if (ACTIVE.includes(e.state)) this.calls.set(e.callId, e.kind);
      else this.calls.delete(e.callId);
      this.requestedAt = 0;
    });
    bus.on('call.refused', (e) => { if (e.kind) this.requestedAt = 0; }); // a refused request, not a refused door code
    bus.on('alarm.state', (e) => (this.alarmOpen = e.state !== 'reset'));
    bus.on('button.press', (e) => this.press(e.button, e.edgeNs));
    bus.on('button.release', (e) => {
      if (e.button === 'emergency') clearTimeout(this.upgradeTimer);
    });
    // Tamper: a warning on the speaker here; an alarm for it is the alarm controller's (io.tamper.callDesk, sip.alarm.raiseOn).
    bus.on('input.tamper', (e) => {
      if (e.active && this.config().io.tamper?.playWarning !== false) this.bus.emit('pa.play', { id: `tamper-${Date.now()}`, channel: 'announcement', message: 'tamper-warning', chime: false });
    });
  }

  private informationCall(): string | undefined {
    for (const [id, kind] of this.calls) if (kind === 'information') return id;
    return undefined;
  }

  private busy(): boolean {
    return this.calls.size > 0 || this.alarmOpen || Date.now() - this.requestedAt < REQUEST_GRACE_MS;
  }

  private press(button: 'emergency' | 'information' | 'cancel', edgeNs: bigint): void {
    if (button === 'cancel') {
      if (this.busy()) this.bus.emit('call.cancel', { source: 'button' });
      else this.bus.emit('button.ignored', { button, reason: 'no call to cancel' });
      return;
    }
    const info = this.informationCall();
    if (button === 'emergency') {
      if (info && !this.alarmOpen) {
        const hold = this.config().io.upgradeHoldMs;
        clearTimeout(this.upgradeTimer);
        this.upgradeTimer = setTimeout(() => {
          if (this.calls.has(info)) this.bus.emit('call.upgrade', { callId: info });
          else this.bus.emit('call.requested', { kind: 'emergency', source: 'button', edgeNs }); // the call ended meanwhile: a plain alarm
        }, hold);
        this.bus.emit('button.ignored', { button, reason: `information call active: hold ${hold} ms to upgrade` });
        return;
      }
      this.bus.emit('call.requested', { kind: 'emergency', source: 'button', edgeNs });
      return;
    }
    if (this.busy()) {
      this.bus.emit('button.ignored', { button, reason: this.alarmOpen ? 'an alarm is open' : 'a call is already active' });
      return;
    }
    this.requestedAt = Date.now();
    this.bus.emit('call.requested', { kind: button, source: 'button', edgeNs });
  }

  stop(): void {
    clearTimeout(this.upgradeTimer);
  }
}
