// A console session ended by a request (log-out, an admin's revocation): what
// it held is let go at once on this instance (its desk, whose SIP password is
// locked; its live streams), then the other instances sharing the database
// are told over the instance bus. Their own checks may have read the session
// as live just before it ended; the notice makes them look again after that.
//
// A session's expiry is announced by no request: each instance keeps a timer
// for the desks held (src/hub/desk/sip-passwords.ts), and the stream plugin
// checks its sessions.
import type { EndedSession, HubContext } from './context.js';

export async function endSessions(hub: HubContext, sessions: EndedSession[], why: string): Promise<void> {
  for (const s of sessions) {
    for (const f of hub.sessionEnded) {
      try {
        await f(s, why);
      } catch (err) {
        hub.log.error({ err: (err as Error).message, user: s.user, why }, 'session end handler failed');
      }
    }
    // Ids only on the bus (a session's id hash: not a credential).
    await hub.bus.publish({ t: 'session', ended: s.idSha256, from: hub.instanceId }).catch((err: Error) => hub.log.error({ err: err.message, user: s.user, why }, 'session end not announced to the other hub instances'));
  }
}
