// Console log-in sessions: random ids in an HttpOnly, SameSite=Strict cookie.
import { randomBytes } from 'node:crypto';
import type http from 'node:http';

export type Role = 'dispatcher' | 'facilities' | 'admin';
export interface Session {
  user: string;
  role: Role;
  expires: number;
}

const TTL_MS = 12 * 3600 * 1000;

export class Sessions {
  private readonly byId = new Map<string, Session>();

  create(user: string, role: Role): string {
    const id = randomBytes(24).toString('base64url');
    this.byId.set(id, { user, role, expires: Date.now() + TTL_MS });
    return id;
  }

  get(req: http.IncomingMessage): Session | undefined {
    const m = /(?:^|;\s*)hp_session=([A-Za-z0-9_-]+)/.exec(req.headers.cookie ?? '');
    const s = m ? this.byId.get(m[1]!) : undefined;
    if (!s || s.expires < Date.now()) return undefined;
    return s;
  }

  destroy(req: http.IncomingMessage): void {
    const m = /(?:^|;\s*)hp_session=([A-Za-z0-9_-]+)/.exec(req.headers.cookie ?? '');
    if (m) this.byId.delete(m[1]!);
  }
}
