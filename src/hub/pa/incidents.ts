// Incidents and drills on zones: declared with a level (and its warning
// colour), the kiosks' screens switch to the incident view (colour, guidance,
// the route to an unblocked exit), the approved message of that level plays
// (repeated while the incident lasts if the level says so), and everything
// that happens goes to the incident's timeline: who did what when, the PA
// actions with their receipts, live pages and alarms raised in its zones.
// A drill is the same with `drill: true`: kiosks show DRILL, messages say
// "This is a drill" first, its records are kept apart, and an alarm during a
// drill is recorded as a real alarm (the kiosks and desks handle it as one:
// drill mode never touches the emergency path).
import type { IncomingEvent } from '../storage/storage.js';
import type { IncidentRow, LocalText, TimelineEntry } from '../storage/pa.js';
import type { ActionRequest, PaHub } from './service.js';
import { newId } from './service.js';

export interface DeclareRequest {
  zones: string[];
  level: string;
  title: string;
  kind?: 'incident' | 'evacuation';
  guidance?: LocalText;
  blockedExits?: string[];
  drill?: boolean;
  by: string;
  role: string;
}

type Result<T> = { ok: true; value: T } | { ok: false; status: number; error: string };

export class Incidents {
  constructor(private readonly pa: PaHub) {}

  private get storage() {
    return this.pa.hub.storage.pa;
  }

  level(id: string) {
    return this.pa.cfg.levels.find((l) => l.id === id);
  }

  async declare(r: DeclareRequest): Promise<Result<IncidentRow>> {
    const level = this.level(r.level);
    if (!level) return { ok: false, status: 400, error: `unknown level "${r.level}"; levels: ${this.pa.cfg.levels.map((l) => l.id).join(', ')}` };
    const known = new Set(this.pa.hub.config.site.zones.map((z) => z.id));
    const unknown = r.zones.filter((z) => !known.has(z));
    if (unknown.length || r.zones.length === 0) return { ok: false, status: 400, error: `unknown zone(s): ${unknown.join(', ') || '(none given)'}` };
    const drill = !!r.drill;
    const kind = r.kind ?? level.kind;
    const id = newId(drill ? 'drill' : 'inc');
    // The screens first: they must change within a second; the records follow.
    const shown = await this.screens({ id, drill, kind, zones: r.zones, blockedExits: r.blockedExits ?? [], guidance: r.guidance ?? null, colour: level.colour, level: level.id }, r.by, r.role);
    const incident = await this.storage.createIncident(
      {
        id,
        drill,
        title: r.title,
        kind,
        level: level.id,
        colour: level.colour,
        zones: r.zones,
        blockedExits: r.blockedExits ?? [],
        guidance: r.guidance ?? null,
        messageId: null,
        playId: null,
        declaredBy: r.by,
      },
      {
        text: `${drill ? 'DRILL: ' : ''}${level.name.en} ${kind} declared in ${r.zones.join(', ')}: ${r.title}`,
        detail: { level: level.id, colour: level.colour, kind, zones: r.zones, blockedExits: r.blockedExits ?? [], guidance: r.guidance ?? null },
      },
    );
    await this.storage.addTimeline([shown]);
    await this.playLevelMessage(incident, r.by, r.role);
    await this.pa.hub.bus.publish({ t: 'pa', ev: 'incident', id });
    return { ok: true, value: (await this.storage.getIncident(id))! };
  }

  /**
   * The zone's screens: DRILL banner for a drill, then the incident view with
   * colour, guidance and blocked exits. Returns the timeline entry saying so.
   */
  private async screens(
    i: Pick<IncidentRow, 'id' | 'drill' | 'kind' | 'zones' | 'blockedExits' | 'guidance' | 'colour' | 'level'>,
    by: string,
    role: string,
  ): Promise<{ incident: string; by: string; kind: string; text: string; detail: unknown }> {
    const t = await this.pa.targets(i.zones);
    const level = this.level(i.level);
    if (i.drill) await this.pa.command('drill.mode', { active: true }, t.online, by, role, 'inc');
    const args = {
      active: true,
      kind: i.kind,
      ...(i.guidance ? { text: i.guidance } : {}),
      blockedExits: i.blockedExits,
      ...(i.colour ? { colour: i.colour } : {}),
      ...(level ? { level: level.name } : {}),
    };
    const cmd = await this.pa.command('incident.mode', args, t.online, by, role, 'inc');
    return {
      incident: i.id,
      by,
      kind: 'screens',
      text: `screens of ${t.online.length} kiosk(s) switched to the ${i.colour ?? ''} ${i.kind} view${i.blockedExits.length ? `, exits blocked: ${i.blockedExits.join(', ')}` : ''}${t.offline.length ? `; offline: ${t.offline.join(', ')}` : ''}`,
      detail: { command: cmd, sent: t.online, offline: t.offline, blockedExits: i.blockedExits },
    };
  }

  /** The approved message of the incident's level, to its zones (repeated if the level says so). */
  private async playLevelMessage(i: IncidentRow, by: string, role: string): Promise<void> {
    const level = this.level(i.level);
    const m = await this.storage.messageForLevel(i.level);
    if (!m) {
      await this.storage.addTimeline([{ incident: i.id, by: 'hub', kind: 'note', text: `no approved message for level ${i.level}: nothing played automatically` }]);
      return;
    }
    const r = await this.pa.play({
      messageId: m.id,
      zones: i.zones,
      channel: i.kind === 'evacuation' ? 'emergency' : 'announcement',
      everyS: level?.repeatEveryS,
      drill: i.drill,
      incidentId: i.id,
      by,
      role,
    });
    if (r.ok) await this.storage.updateIncident(i.id, { messageId: m.id, playId: r.play.id });
    else await this.storage.addTimeline([{ incident: i.id, by: 'hub', kind: 'note', text: `level message ${m.id} not played: ${r.error}` }]);
  }

  async update(id: string, patch: { level?: string; blockedExits?: string[]; guidance?: LocalText; title?: string; kind?: 'incident' | 'evacuation' }, by: string, role: string): Promise<Result<IncidentRow>> {
    const cur = await this.storage.getIncident(id);
    if (!cur) return { ok: false, status: 404, error: 'no such incident' };
    if (cur.state !== 'open') return { ok: false, status: 409, error: 'the incident is closed' };
    const level = patch.level ? this.level(patch.level) : undefined;
    if (patch.level && !level) return { ok: false, status: 400, error: `unknown level "${patch.level}"` };
    const next = await this.storage.updateIncident(id, {
      ...(level ? { level: level.id, colour: level.colour } : {}),
      ...(patch.blockedExits ? { blockedExits: patch.blockedExits } : {}),
      ...(patch.guidance ? { guidance: patch.guidance } : {}),
      ...(patch.title ? { title: patch.title } : {}),
      ...(patch.kind ? { kind: patch.kind } : {}),
    });
    if (!next) return { ok: false, status: 409, error: 'the incident is closed' };
    const what = Object.entries(patch)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join('; ');
    await this.storage.addTimeline([{ incident: id, by, kind: 'updated', text: `updated: ${what}`, detail: patch }]);
    await this.storage.addTimeline([await this.screens(next, by, role)]);
    if (level && level.id !== cur.level) {
      if (cur.playId) await this.pa.cancel(cur.playId, by, role);
      await this.playLevelMessage(next, by, role);
    }
    await this.pa.hub.bus.publish({ t: 'pa', ev: 'incident', id });
    return { ok: true, value: (await this.storage.getIncident(id))! };
  }

  async note(id: string, text: string, by: string): Promise<Result<TimelineEntry[]>> {
    const cur = await this.storage.getIncident(id);
    if (!cur) return { ok: false, status: 404, error: 'no such incident' };
    await this.storage.addTimeline([{ incident: id, by, kind: 'note', text }]);
    await this.pa.hub.bus.publish({ t: 'pa', ev: 'incident', id });
    return { ok: true, value: await this.storage.timeline(id) };
  }

  async close(id: string, summary: string, by: string, role: string): Promise<Result<IncidentRow>> {
    const cur = await this.storage.getIncident(id);
    if (!cur) return { ok: false, status: 404, error: 'no such incident' };
    if (cur.state !== 'open') return { ok: false, status: 409, error: 'the incident is closed already' };
    for (const p of await this.storage.listPlays({ incident: id, active: true })) await this.pa.cancel(p.id, by, role);
    const t = await this.pa.targets(cur.zones);
    await this.pa.command('incident.mode', { active: false, kind: cur.kind }, t.online, by, role, 'inc');
    if (cur.drill) await this.pa.command('drill.mode', { active: false }, t.online, by, role, 'inc');
    const closed = await this.storage.closeIncident(id, by, summary);
    await this.pa.hub.bus.publish({ t: 'pa', ev: 'incident', id });
    return closed ? { ok: true, value: closed } : { ok: false, status: 409, error: 'the incident is closed already' };
  }

  /** A PA action was sent: it belongs to its incident, and to every open incident of its zones. */
  async actionSent(a: ActionRequest, t: { online: string[]; offline: string[] }): Promise<void> {
    const ids = new Set<string>();
    if (a.incidentId) ids.add(a.incidentId);
    for (const i of await this.storage.openIncidentsIn(a.zones)) ids.add(i.id);
    if (ids.size === 0) return;
    const what = a.kind === 'live' ? `live ${a.channel === 'emergency' ? 'emergency ' : ''}page by ${a.by}` : `message "${a.text?.en ?? a.messageId}"${a.drill ? ' (drill)' : ''}`;
    await this.storage.addTimeline(
      [...ids].map((incident) => ({
        incident,
        by: a.by,
        kind: a.kind === 'live' ? 'page' : 'message',
        text: `${what} to ${a.zones.join(', ')}: ${t.online.length} kiosk(s)${t.offline.length ? `, ${t.offline.length} offline` : ''}`,
        detail: { action: a.id, play: a.playId ?? null, message: a.messageId ?? null, version: a.messageVersion ?? null, sent: t.online, offline: t.offline },
      })),
    );
    for (const id of ids) await this.pa.hub.bus.publish({ t: 'pa', ev: 'incident', id });
  }

  /**
   * An alarm transition (alarm.state), or an emergency call placed or
   * answered (call.state), from a kiosk: into the timeline of every open
   * incident (or drill) of its zone.
   */
  async alarm(kiosk: string, e: IncomingEvent): Promise<void> {
    let kind: string;
    let text: string;
    let detail: Record<string, unknown>;
    if (e.type === 'alarm.state') {
      const d = (e.data ?? {}) as { alarmId?: string; state?: string; category?: string; source?: string; at?: string };
      if (!d.alarmId || !d.state) return;
      kind = 'alarm';
      text = `alarm ${d.state} at ${kiosk}${d.category ? ` (${d.category})` : ''}`;
      detail = { alarmId: d.alarmId, state: d.state, category: d.category ?? null, source: d.source ?? null, at: d.at ?? e.at };
    } else {
      const d = (e.data ?? {}) as { callId?: string; state?: string; attempt?: number; target?: string; incoming?: boolean; category?: string };
      // The call that carries an emergency: placed (first attempt) and answered by a desk.
      if (d.incoming || !((d.state === 'calling' && (d.attempt ?? 1) === 1) || d.state === 'connected')) return;
      kind = 'call';
      text = d.state === 'calling' ? `emergency call placed at ${kiosk}` : `emergency call from ${kiosk} answered${d.target ? ` by ${d.target}` : ''}`;
      detail = { callId: d.callId ?? null, state: d.state, target: d.target ?? null, at: e.at };
    }
    const k = await this.pa.hub.storage.getKiosk(kiosk);
    if (!k) return;
    const open = await this.storage.openIncidentsIn([k.zone]);
    if (open.length === 0) return;
    await this.storage.addTimeline(
      open.map((i) => ({
        incident: i.id,
        by: `kiosk:${kiosk}`,
        kind,
        // During a drill an alarm is real: it is recorded as such, never as part of the exercise.
        text: i.drill ? `REAL ${text} (not part of the drill)` : text,
        detail: { ...detail, kiosk, zone: k.zone, real: true },
      })),
    );
    for (const i of open) await this.pa.hub.bus.publish({ t: 'pa', ev: 'incident', id: i.id });
  }

  /** Everything about an incident, for the console, the export and the printable page. */
  async report(id: string) {
    const incident = await this.storage.getIncident(id);
    if (!incident) return undefined;
    const timeline = await this.storage.timeline(id);
    const actionIds = [...new Set(timeline.map((t) => (t.detail as { action?: string } | null)?.action).filter((a): a is string => typeof a === 'string'))];
    const actions = [];
    for (const a of actionIds) {
      const r = await this.pa.actionReport(a);
      if (r) actions.push(r);
    }
    const level = this.level(incident.level);
    return { incident: { ...incident, levelName: level?.name ?? { en: incident.level } }, timeline, actions };
  }
}
