// A kiosk's history for the desk: alarms (every transition, who acknowledged
// and reset), calls with their media statistics (loss, jitter), chat both
// ways, ETA sent, door pulses, restarts and reboots (with the hub's word on
// whether the board came back), and what dispatchers did at the desk, newest
// first. One list for the API and the server-rendered page.
import type { HubContext } from '../context.js';
import { HISTORY_TYPES } from './service.js';

export interface HistoryEntry {
  at: string;
  /** 'kiosk': a recorded kiosk event; 'desk': what a dispatcher did; 'hub': what the hub saw (a reboot's end) */
  source: 'kiosk' | 'desk' | 'hub';
  type: string;
  /** one line a person reads */
  summary: string;
  alarmId?: string | null;
  callId?: string | null;
  data: unknown;
}

const num = (v: unknown, digits = 1) => (typeof v === 'number' ? v.toFixed(digits) : '?');

function summarize(type: string, d: Record<string, any>): string {
  switch (type) {
    case 'alarm.state':
      return `alarm ${d.state}${d.attempt ? ` (attempt ${d.attempt})` : ''}${d.target ? ` · ${d.target}` : ''}${d.by ? ` · by ${d.by}` : ''}${d.reason ? ` · ${d.reason}` : ''}`;
    case 'alarm.refused':
      return `alarm action refused: ${d.reason ?? ''}`;
    case 'call.state':
      return `${d.incoming ? 'incoming' : d.kind ?? ''} call ${d.state}${d.target ? ` · ${d.target}` : ''}${d.reason ? ` · ${d.reason}` : ''}`;
    case 'call.media':
      return `call media ${d.codec ?? ''}: ${d.packetsReceived ?? '?'} packets received, loss ${num(d.lossPct)} %, jitter ${num(d.jitterMs)} ms, sent ${d.packetsSent ?? '?'}`;
    case 'call.refused':
      return `call refused: ${d.reason ?? ''}`;
    case 'call.page':
      return `SIP page ${d.state ?? ''}${d.from ? ` · from ${d.from}` : ''}${d.via ? ` (${d.via})` : ''}${d.code ? ` · ${d.code}` : ''}${d.reason ? ` · ${d.reason}` : ''}${typeof d.durationMs === 'number' ? ` · ${num(d.durationMs / 1000)} s` : ''}`;
    case 'call.rating':
      return `caller's rating: ${d.rating ?? '?'} / 5`;
    case 'chat.toDesk':
      return `caller: ${d.text ?? ''}${d.lang ? ` (${d.lang})` : ''}`;
    case 'chat.fromDesk':
      return `desk (shown on the screen): ${d.text ?? ''}`;
    case 'desk.info':
      return `on the screen: ETA ${d.etaMin ?? '-'} min, responder ${d.responder ?? '-'}`;
    case 'relay.pulse':
      return `door relay pulsed (${d.source ?? '?'})`;
    case 'screen.language':
      return `screen language ${d.lang ?? '?'}`;
    case 'kiosk.restart':
      return `kiosk restarted, asked by ${d.by ?? '?'}`;
    case 'kiosk.reboot':
      return `board reboot asked by ${d.by ?? '?'}: handing it to the system`;
    case 'kiosk.reboot.refused':
      return `board reboot refused: ${d.reason ?? '?'} (asked by ${d.by ?? '?'})`;
    case 'kiosk.reboot.failed':
      return `board reboot failed: ${d.error ?? '?'} (asked by ${d.by ?? '?'})`;
    default:
      return type;
  }
}

export async function kioskHistory(hub: HubContext, kiosk: string, opts: { from?: string; limit?: number } = {}): Promise<HistoryEntry[]> {
  const limit = Math.min(opts.limit ?? 500, 2000);
  const wanted = new Set(HISTORY_TYPES);
  // The kiosk's events of every kind since `from` (default: the last 30 days), oldest first; keep those the history shows.
  const from = opts.from ?? new Date(Date.now() - 30 * 86400_000).toISOString();
  const events = (await hub.storage.listEvents({ kiosk, from, limit: 20_000 })).filter((e) => wanted.has(e.type));
  const entries: HistoryEntry[] = events.map((e) => {
    const d = (e.data ?? {}) as Record<string, any>;
    return { at: e.at, source: 'kiosk', type: e.type, summary: summarize(e.type, d), alarmId: d.alarmId ?? null, callId: d.callId ?? null, data: d };
  });
  for (const a of await hub.storage.desk.actions({ kiosk, from, limit })) {
    entries.push({ at: a.at, source: 'desk', type: `desk.${a.action}`, summary: `${a.user}${a.desk ? ` at ${a.desk}` : ''}: ${a.action}`, alarmId: a.alarmId, data: a.detail });
  }
  // A reboot's end as the hub saw it: back with another boot id, or not back in time.
  for (const r of await hub.storage.reboots.list(kiosk, limit)) {
    if ((r.state !== 'back' && r.state !== 'not-back') || !r.endedAt || Date.parse(r.endedAt) < Date.parse(from)) continue;
    const summary = r.state === 'back' ? `board rebooted: back at ${r.endedAt} (asked by ${r.by})` : `board not back from its reboot: ${r.error ?? ''} (asked by ${r.by})`;
    entries.push({ at: r.endedAt, source: 'hub', type: `kiosk.reboot.${r.state}`, summary, data: { commandId: r.commandId, askedAt: r.askedAt, bootBefore: r.bootBefore, bootAfter: r.bootAfter } });
  }
  return entries.sort((x, y) => Date.parse(y.at) - Date.parse(x.at)).slice(0, limit);
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function historyPage(siteName: string, kiosk: string, entries: HistoryEntry[]): string {
  const rows = entries
    .map((e) => `<tr class="${esc(e.source)} ${esc(e.type.replace(/\./g, '-'))}" data-type="${esc(e.type)}"><td>${esc(new Date(e.at).toISOString().replace('T', ' ').slice(0, 19))}</td><td>${esc(e.source)}</td><td>${esc(e.summary)}</td><td><small>${esc(e.alarmId ?? '')}</small></td></tr>`)
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(kiosk)}: history — ${esc(siteName)}</title>
<link rel="stylesheet" href="/static/console.css"><style>tr.desk td{color:#060} tr.alarm-state td:nth-child(3){font-weight:bold}</style></head>
<body><header><b>Help-point control centre</b> · ${esc(siteName)} · <a href="/desk">dispatch desk</a> · history of <b>${esc(kiosk)}</b></header>
<main><p>Alarms, calls with media statistics, chat, what was shown on the screen and what dispatchers did, newest first (times UTC). JSON: <a href="/api/desk/kiosks/${encodeURIComponent(kiosk)}/history">/api/desk/kiosks/${esc(kiosk)}/history</a>.</p>
<table id="history"><thead><tr><th>Time</th><th>From</th><th>What</th><th>Alarm</th></tr></thead><tbody>
${rows || '<tr><td colspan="4">Nothing recorded yet.</td></tr>'}
</tbody></table></main></body></html>`;
}
