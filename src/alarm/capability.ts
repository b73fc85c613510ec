// The alarm as a kiosk capability, started right after io (the buttons): it
// reads its journal first, so an alarm that was open when the kiosk stopped
// (a crash, a power cut) resumes before anything else is slow to start. It
// places its calls through ctx.services.calls once the intercom is up.
import type { KioskCapability, KioskContext } from '../core/context.js';
import { healthOf, type Reconfigured } from '../core/capability.js';
import { AlarmController } from './controller.js';
import { AlarmJournal, type Loaded } from './journal.js';

/** Test seam: comma-separated policy steps that throw once (e.g. "place" or "call connected"). */
export const THROW_ONCE_ENV = 'HELPPOINT_ALARM_THROW_ONCE';

export class AlarmCapability implements KioskCapability {
  readonly name = 'alarm';
  readonly fault = 'alarm' as const;
  readonly config = ['sip'] as const;
  readonly raises = ['alarm.state', 'alarm.refused', 'alarm.error', 'fault.raised', 'fault.cleared'] as const;
  readonly handles = ['call.requested', 'call.upgrade', 'call.cancel', 'input.tamper', 'input.door', 'input.power', 'input.reset', 'intercom.ready'] as const;
  controller?: AlarmController;
  private journal?: AlarmJournal;
  private failure?: string;

  async start(ctx: KioskContext): Promise<void> {
    const { log, faults } = ctx;
    let loaded: Loaded = { closed: [], dropped: 0 };
    let journal: AlarmJournal | undefined = new AlarmJournal(ctx.store.dir);
    // The alarm never depends on the disk: whatever fails here, it runs (in memory if need be) and says so.
    const storeProblem = (detail: string | undefined) => ctx.store.problem('alarm', detail);
    const unusable = (err: unknown) => {
      this.failure = `alarm journal unusable (${(err as Error).message}); alarms are kept in memory`;
      log.error({ err, file: journal?.file }, 'alarm journal unusable; alarms are kept in memory');
      storeProblem(this.failure);
    };
    try {
      loaded = journal.load();
      if (loaded.dropped) log.error({ file: journal.file, dropped: loaded.dropped }, 'alarm journal had unreadable lines (a torn write); they were dropped');
    } catch (err) {
      unusable(err);
      journal = undefined;
    }
    if (journal) {
      try {
        const at = new Date().toISOString();
        const others = (loaded.others ?? []).map((o) => ({ ...o, state: 'reset' as const, at, seq: o.seq + 1, reason: 'closed at start-up: a newer alarm was open' }));
        for (const o of others) log.error({ alarmId: o.alarmId }, 'a second open alarm in the journal: closed; the newest is resumed');
        // Rewritten at every start: no torn tail stays behind for the next append.
        await journal.compact();
        if (others.length) await journal.append(others);
      } catch (err) {
        unusable(err);
      }
    }
    this.journal = journal;
    const throwOnce = (process.env[THROW_ONCE_ENV] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (throwOnce.length) log.warn({ throwOnce }, `test seam ${THROW_ONCE_ENV} is set: the alarm policy will throw once at these steps`);
    const controller = new AlarmController({ bus: ctx.bus, log, config: ctx.config, faults, journal, storeProblem, calls: () => ctx.services.calls, throwOnce, setup: ctx.services.setup });
    this.controller = controller;
    ctx.services.alarm = controller;
    controller.start(loaded.open);
  }

  /**
   * A new config, live: the controller reads the desks, ring and queue
   * timeouts and the acknowledge codes from the current config at each use
   * (the next attempt takes them; an index past a shortened desk list wraps).
   */
  async reconfigure(): Promise<Reconfigured> {
    return this.controller ? 'applied' : 'restart';
  }

  async stop(): Promise<void> {
    this.controller?.stop();
    await this.journal?.close();
  }

  health() {
    return healthOf(!!this.controller, this.failure);
  }
}
