// Requests from the facilities console: the session cookie goes along; state
// changes carry the CSRF token of the page's <meta name="csrf-token">.
const csrf = () => document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? '';

export const role = () => document.querySelector<HTMLMetaElement>('meta[name="role"]')?.content ?? '';
export const canEdit = () => role() === 'facilities' || role() === 'admin';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: { error?: string; errors?: { path: string; message: string; kiosks?: string[] }[] },
  ) {
    super(message);
  }
}

async function answer<T>(r: Response): Promise<T> {
  if (r.status === 401) {
    location.href = '/';
    throw new ApiError('logged out', 401, {});
  }
  const body = (await r.json().catch(() => ({}))) as T & { error?: string };
  if (!r.ok) throw new ApiError(body.error ?? `HTTP ${r.status}`, r.status, body);
  return body;
}

export async function get<T>(url: string): Promise<T> {
  return answer<T>(await fetch(url, { headers: { accept: 'application/json' } }));
}

export async function post<T>(url: string, body: unknown): Promise<T> {
  return answer<T>(await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf() }, body: JSON.stringify(body ?? {}) }));
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

export interface FleetEntry {
  id: string;
  zone: string;
  location: { text: { en: string }; x: number; y: number; floor?: string };
  state: 'online' | 'fault' | 'offline' | 'alarm' | 'revoked';
  online: boolean;
  revoked: boolean;
  firmware?: string;
  configVersion: number;
  uptimeS?: number;
  faults: { code: string; detail: string }[];
  lastAlarm?: { alarmId: string; state: string; at: string; category: string | null };
  /** the last test call (supervision), null before the first */
  lastTestCall: { testId: string; at: string; trigger: string; passed: boolean; failedStep: string | null } | null;
  /** the last reboot of the board asked from the hub */
  lastReboot?: { commandId: string; state: 'asked' | 'rebooting' | 'back' | 'not-back' | 'refused' | 'failed'; by: string; askedAt: string; endedAt: string | null; error: string | null };
}

/** The last reboot in words: under way, rebooted at ..., not back, refused or failed (with the reason). */
export function rebootText(r: NonNullable<FleetEntry['lastReboot']>): string {
  const t = (s: string | null) => (s ? new Date(s).toLocaleString() : '?');
  switch (r.state) {
    case 'asked':
      return `reboot asked at ${t(r.askedAt)}`;
    case 'rebooting':
      return `rebooting since ${t(r.askedAt)}`;
    case 'back':
      return `rebooted at ${t(r.endedAt)}`;
    case 'not-back':
      return `${r.error ?? 'not back'} (asked at ${t(r.askedAt)})`;
    default:
      return `${r.error ?? `reboot ${r.state}`} (${t(r.endedAt)})`;
  }
}

export interface Rollout {
  id: string;
  kind: string;
  scope: string;
  target: string;
  version: number;
  previous: number;
  state: 'canary' | 'rest' | 'done' | 'failed';
  reason: string;
  comment: string;
  createdBy: string;
  createdAt: string;
  counts: { stage: string; state: string; n: number }[];
  checks?: { name: string; enabled: boolean }[];
  kiosks?: { kiosk: string; stage: string; version: number | null; state: string; detail: string }[];
}

export function uptime(s?: number): string {
  if (s === undefined) return '—';
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d ? `${d} d ${h} h` : h ? `${h} h ${m} min` : `${m} min ${s % 60} s`;
}

/** A rollout as a small block: state, reason, counts, canaries. */
export function rolloutBlock(r: Rollout): HTMLElement {
  const layer = `${r.scope}${r.target ? ` ${r.target}` : ''} v${r.version}`;
  const box = el('div', { class: `rollout ro-${r.state}`, 'data-rollout': r.id, 'data-state': r.state });
  box.append(
    el('div', {}, el('b', {}, `${r.kind === 'rollback' ? 'Rollback' : 'Change'} ${layer}`), ` · ${r.state}`, ` · by ${r.createdBy} · ${new Date(r.createdAt).toLocaleString()}`, r.comment ? ` · “${r.comment}”` : ''),
  );
  if (r.reason) box.append(el('div', { class: 'reason' }, r.reason));
  if (r.counts.length) box.append(el('div', { class: 'counts' }, r.counts.map((c) => `${c.stage} ${c.state}: ${c.n}`).join(' · ')));
  if (r.checks) box.append(el('div', { class: 'checks' }, 'checks: kiosk health window, hub (online, no new fault)', ...r.checks.map((c) => `, ${c.name} ${c.enabled ? 'on' : 'off (not available yet)'}`)));
  if (r.kiosks?.length) {
    const t = el('table', { class: 'ro-kiosks' }, el('tr', {}, el('th', {}, 'Kiosk'), el('th', {}, 'Stage'), el('th', {}, 'Version'), el('th', {}, 'State'), el('th', {}, 'Detail')));
    for (const k of r.kiosks.slice(0, 50)) t.append(el('tr', { 'data-kiosk': k.kiosk }, el('td', {}, k.kiosk), el('td', {}, k.stage), el('td', {}, String(k.version ?? '—')), el('td', { class: `ks-${k.state}` }, k.state), el('td', {}, k.detail)));
    box.append(t);
  }
  return box;
}
