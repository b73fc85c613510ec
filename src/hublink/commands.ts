// Hub commands become bus events; the capability that owns each event acts on
// it (audio plays, the screen shows, the relay pulses, the intercom calls back).
import type { Bus } from '../core/bus.js';
import type { Command } from '../protocol/messages.js';
import type { PaPlay } from '../audio/events.js';
import type { CrowdLevel } from '../display/events.js';
import type { AlarmService } from '../alarm/service.js';
import type { SupervisionService } from '../supervision/capability.js';

/**
 * Acts on one command. Most become a bus event at once; alarm commands resolve
 * once the transition is persisted and reject with the reason when the kiosk
 * refuses (not its open alarm), so the hub's result says what really happened.
 */
export interface CommandTargets {
  bus: Bus;
  /** the alarm controller, for the dispatcher's acknowledge and reset */
  alarm?: () => AlarmService | undefined;
  /** supervision, for supervision.test */
  supervision?: () => SupervisionService | undefined;
  /** kiosk.restart: undefined when accepted (the kiosk restarts in a moment), else why not */
  restart?: (by: string) => string | undefined;
  /** kiosk.reboot: undefined once the system has the reboot, else the whole reason (refused, or the command failed) */
  reboot?: (by: string) => Promise<string | undefined>;
}

export function dispatchCommand(cmd: Command, t: CommandTargets): void | Promise<void> {
  const { bus, alarm, supervision } = t;
  const a = cmd.args as Record<string, never>;
  switch (cmd.command) {
    case 'kiosk.restart': {
      if (!t.restart) throw new Error('this kiosk cannot be restarted from the hub');
      const refused = t.restart((cmd.args as { by: string }).by);
      if (refused) throw new Error(`restart refused: ${refused}`);
      return;
    }
    case 'kiosk.reboot': {
      const reboot = t.reboot;
      if (!reboot) throw new Error('this kiosk cannot be rebooted from the hub');
      return reboot((cmd.args as { by: string }).by).then((failed) => {
        if (failed) throw new Error(failed);
      });
    }
    case 'alarm.ack':
    case 'alarm.reset': {
      const svc = alarm?.();
      if (!svc) throw new Error('this kiosk has no alarm controller running');
      const { alarmId, by } = cmd.args as { alarmId: string; by: string };
      return cmd.command === 'alarm.ack' ? svc.ack(alarmId, by, 'dispatcher at the hub') : svc.reset(alarmId, by, 'dispatcher at the hub');
    }
    case 'supervision.test': {
      const svc = supervision?.();
      if (!svc) throw new Error('this kiosk has no supervision running');
      return svc.run('hub').then((t) => {
        if (!t.passed) {
          const step = t.steps.find((s) => s.step === t.failedStep);
          throw new Error(`test ${t.testId} failed at ${t.failedStep}${step ? `: ${step.detail}` : ''}`);
        }
      });
    }
    case 'pa.play':
      return bus.emit('pa.play', { id: cmd.id, ...(cmd.args as object) } as PaPlay);
    case 'pa.stop':
      return bus.emit('pa.stop', { id: a.id });
    case 'pa.page':
      return bus.emit('pa.page', cmd.args as never);
    case 'screen.message':
      return bus.emit('screen.message', cmd.args as never);
    case 'incident.mode':
      return bus.emit('incident.mode', cmd.args as never);
    case 'drill.mode':
      return bus.emit('drill.mode', cmd.args as never);
    case 'crowd.level':
      return bus.emit('crowd.level', { level: (cmd.args as { level: CrowdLevel }).level });
    case 'relay.pulse':
      return bus.emit('relay.pulse', { output: 'doorRelay', ms: (cmd.args as { ms?: number }).ms, source: 'hub' });
    case 'call.back':
      return bus.emit('call.requested', { kind: (cmd.args as { kind?: 'emergency' | 'information' }).kind ?? 'information', category: 'call-back', source: 'hub' });
    case 'desk.info':
      return bus.emit('desk.info', cmd.args as never);
    case 'chat':
      return bus.emit('chat.fromDesk', { ...(cmd.args as { text: string; callId?: string }), at: new Date().toISOString() });
  }
}
