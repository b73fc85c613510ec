// How many calls a stranger can make the kiosk hold open. sip.js keeps each
// incoming INVITE's server transaction until the ACK, up to Timer H (32 s),
// with the whole request: a flood of INVITEs that are answered but never ACKed
// held about 1 KB each for 32 s (10,000 a second would be 320 MB), and sip.js
// scans every open one on each new request. Past `maxOpen` open server
// transactions a new INVITE is admitted only from a trusted arrival (the
// registrar's flow, a trusted source, a pinned TLS peer); others are dropped
// unanswered, so the kiosk reflects nothing, and a real caller's INVITE
// retransmission gets in once the flood ends. Other requests end their
// transaction at once (Timer J is zero) and always pass: a desk's BYE or INFO
// on the alarm call is never held back.
import type { Arrival } from './transports/routing.js';
import { topViaBranch } from './transports/routing.js';

export interface AdmissionOptions {
  /** server transactions sip.js holds now */
  open(): number;
  /** is there a server transaction for this branch already (a retransmission)? */
  has(branch: string): boolean;
  /** may this arrival always call the kiosk? */
  trusted(from: Arrival): boolean;
  /** a dropped INVITE, at most once per `reportEveryMs` with the count since the last report */
  report(dropped: number, from: Arrival): void;
  maxOpen?: number;
  reportEveryMs?: number;
}

export class RequestAdmission {
  static readonly MAX_OPEN = 64;
  /** INVITEs dropped since start (health, tests) */
  dropped = 0;
  private unreported = 0;
  private lastReport = 0;

  constructor(private readonly o: AdmissionOptions) {}

  admit(text: string, from: Arrival): boolean {
    if (!text.startsWith('INVITE ')) return true;
    if (this.o.open() < (this.o.maxOpen ?? RequestAdmission.MAX_OPEN)) return true;
    if (this.o.trusted(from)) return true;
    const branch = topViaBranch(text);
    if (branch && this.o.has(branch)) return true;
    this.dropped++;
    this.unreported++;
    const now = Date.now();
    if (now - this.lastReport >= (this.o.reportEveryMs ?? 10_000)) {
      this.o.report(this.unreported, from);
      this.unreported = 0;
      this.lastReport = now;
    }
    return false;
  }
}
