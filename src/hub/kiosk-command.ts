// One command to one kiosk, waiting a moment for its result: what a console
// action (a desk's door or chat, a facilities restart) needs to say what
// happened. Stored and delivered like POST /api/commands (any instance that
// holds the kiosk's socket sends it); offline kiosks are told apart at once.
import { randomBytes } from 'node:crypto';
import type { HubContext, SessionInfo } from './context.js';

export interface OneKioskResult {
  id?: string;
  ok: boolean;
  /** no answer within the wait: the result may still come (GET /api/commands/:id) */
  pending?: boolean;
  /** offline: nothing was sent */
  offline?: boolean;
  error?: string;
}

/** Stores and sends one command to one kiosk: its id, or undefined when the kiosk is offline (nothing sent). */
export async function sendOneKiosk(hub: HubContext, by: Pick<SessionInfo, 'user' | 'role'>, kiosk: string, command: string, args: Record<string, unknown>): Promise<string | undefined> {
  const online = hub.link.isLocal(kiosk) || (await hub.storage.onlineKiosks([kiosk], hub.offlineAfterMs)).has(kiosk);
  if (!online) return undefined;
  const id = `cmd-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  await hub.storage.createCommand({ id, command, args, by: by.user, role: by.role, kiosks: [kiosk] });
  await hub.link.commandStored({ id, command, args, kiosks: [kiosk] });
  return id;
}

export async function commandOneKiosk(
  hub: HubContext,
  who: { session: SessionInfo; ip: string },
  kiosk: string,
  command: string,
  args: Record<string, unknown>,
  opts: { waitMs?: number; audit?: Record<string, unknown> } = {},
): Promise<OneKioskResult> {
  const id = await sendOneKiosk(hub, who.session, kiosk, command, args);
  if (!id) return { ok: false, offline: true, error: `kiosk ${kiosk} is offline` };
  await hub.audit(who, `command.${command}`, kiosk, 'sent', { id, ...opts.audit });
  const until = Date.now() + (opts.waitMs ?? 3000);
  for (;;) {
    const r = (await hub.storage.getCommand(id))?.results[kiosk];
    if (r) return { id, ok: r.ok, ...(r.error ? { error: r.error } : {}) };
    if (Date.now() >= until) return { id, ok: false, pending: true, error: 'the kiosk has not answered yet' };
    await new Promise((res) => setTimeout(res, 50));
  }
}
