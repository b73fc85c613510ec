// The fleet page: every kiosk on the site's floor plan, coloured by state
// (online, fault, offline, alarm), filtered by zone; the same as a sortable
// list; rollouts; enrolment. The fleet is loaded once; then only changed
// kiosks arrive as server-sent events (no polling of the whole fleet).
import { canEdit, el, get, post, rebootText, rolloutBlock, uptime, type FleetEntry, type Rollout } from './api.js';
import { drawFloorplan, kioskMarker } from '../floorplan.js';

interface Fleet {
  site: { id: string; name: { en: string }; zones: { id: string; name: { en: string } }[]; map: { width: number; height: number; floorplan: boolean } | null };
  kiosks: FleetEntry[];
}

const kiosks = new Map<string, FleetEntry>();
let sortKey = 'id';
let sortDir = 1;
const zoneSel = document.getElementById('zone') as HTMLSelectElement;
const zone = () => zoneSel.value;

let mapSvg: SVGSVGElement | undefined;

function drawMap(f: Fleet): void {
  mapSvg = drawFloorplan(document.getElementById('map')!, f.site.map);
}

function marker(k: FleetEntry): void {
  if (!mapSvg) return;
  const g = kioskMarker(mapSvg, k.id, k.location);
  g.setAttribute('class', `kiosk st-${k.state}`);
  g.setAttribute('data-state', k.state);
  g.style.display = zone() && k.zone !== zone() ? 'none' : '';
  g.querySelector('title')!.textContent = `${k.id} (${k.zone}): ${k.state}${k.faults.length ? ` — ${k.faults.map((x) => x.code).join(', ')}` : ''}`;
}

const sortValue = (k: FleetEntry, key: string): string | number => {
  switch (key) {
    case 'location': return k.location.text.en;
    case 'faults': return k.faults.length;
    case 'lastAlarm': return k.lastAlarm?.at ?? '';
    case 'lastTestCall': return k.lastTestCall?.at ?? '';
    case 'uptimeS': return k.uptimeS ?? -1;
    default: return (k as unknown as Record<string, string | number>)[key] ?? '';
  }
};

function row(k: FleetEntry): HTMLTableRowElement {
  const tr = el('tr', { 'data-kiosk': k.id, 'data-state': k.state });
  const cells: (string | Node)[] = [
    el('a', { href: `/desk/kiosks/${encodeURIComponent(k.id)}/history`, title: 'alarms, calls, chat and who acted: the kiosk\'s history' }, k.id),
    k.zone,
    k.location.text.en,
    el('span', { class: `st st-${k.state}` }, k.state),
    k.firmware ?? '—',
    String(k.configVersion || '—'),
    // the uptime, and under it the last reboot asked from the hub: under way, rebooted at, not back, refused, failed
    k.lastReboot
      ? el('span', {}, uptime(k.uptimeS), el('br'), el('small', { class: `reboot rb-${k.lastReboot.state}`, 'data-reboot': k.lastReboot.state, title: `asked by ${k.lastReboot.by}` }, rebootText(k.lastReboot)))
      : uptime(k.uptimeS),
    k.faults.map((x) => `${x.code}: ${x.detail}`).join('; ') || '—',
    k.lastTestCall
      ? el('span', { class: k.lastTestCall.passed ? 'on' : 'off', title: k.lastTestCall.testId }, `${k.lastTestCall.passed ? 'passed' : `failed: ${k.lastTestCall.failedStep ?? '?'}`} ${new Date(k.lastTestCall.at).toLocaleString()}`)
      : '—',
    k.lastAlarm ? `${k.lastAlarm.state} ${new Date(k.lastAlarm.at).toLocaleString()}` : '—',
  ];
  for (const c of cells) tr.append(el('td', {}, c));
  if (canEdit()) {
    const actions = el('td', {});
    if (k.online) actions.append(el('button', { type: 'button', 'data-act': 'restart', 'data-kiosk': k.id, title: 'restart the kiosk process; refused while a call, a page, a test or an alarm is open' }, 'restart'));
    if (k.online) actions.append(el('button', { type: 'button', 'data-act': 'reboot', 'data-kiosk': k.id, title: 'reboot the board; refused while a call, a page, a test or an alarm is open, or where the kiosk allows no reboot' }, 'reboot'));
    if (!k.revoked) actions.append(el('button', { type: 'button', 'data-act': 'revoke', 'data-kiosk': k.id }, 'revoke'));
    actions.append(el('button', { type: 'button', 'data-act': 'replace', 'data-kiosk': k.id }, 'replace hardware'));
    tr.append(actions);
  }
  return tr;
}

function drawList(): void {
  const body = document.querySelector('#fleet tbody')!;
  const list = [...kiosks.values()].filter((k) => !zone() || k.zone === zone());
  list.sort((a, b) => {
    const x = sortValue(a, sortKey);
    const y = sortValue(b, sortKey);
    return (x < y ? -1 : x > y ? 1 : 0) * sortDir;
  });
  body.replaceChildren(...list.map(row));
}

function update(list: FleetEntry[]): void {
  for (const k of list) {
    kiosks.set(k.id, k);
    marker(k);
  }
  drawList();
}

async function loadRollouts(): Promise<void> {
  const list = await get<Rollout[]>('/api/facilities/rollouts');
  document.getElementById('rollouts')!.replaceChildren(...(list.length ? list.slice(0, 10).map(rolloutBlock) : [el('p', {}, 'No rollout yet.')]));
}

let rolloutTimer: number | undefined;
function live(): void {
  const status = document.getElementById('live')!;
  const es = new EventSource('/api/facilities/stream');
  es.onopen = () => {
    status.textContent = 'live';
    status.className = 'on';
  };
  es.onerror = () => {
    status.textContent = 'reconnecting…';
    status.className = 'off';
  };
  es.addEventListener('kiosks', (e) => update(JSON.parse((e as MessageEvent<string>).data) as FleetEntry[]));
  es.addEventListener('rollout', () => {
    clearTimeout(rolloutTimer);
    rolloutTimer = window.setTimeout(() => void loadRollouts(), 100);
  });
}

async function enrolment(): Promise<void> {
  const form = document.getElementById('enrol') as HTMLFormElement | null;
  if (!form) return;
  const opts = await get<{ zones: string[]; baseConfigs: string[] }>('/api/facilities/enrolment');
  (form.elements.namedItem('zone') as HTMLSelectElement).append(...opts.zones.map((z) => el('option', { value: z }, z)));
  document.getElementById('bases')!.append(...opts.baseConfigs.map((b) => el('option', { value: b })));
  const tokenBox = document.getElementById('token')!;
  const showToken = (id: string, token: string) => {
    tokenBox.hidden = false;
    tokenBox.replaceChildren(el('p', {}, `Token for ${id} (shown this once: put it in the kiosk's hub.token now):`), el('code', { id: 'token-value' }, token));
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const d = new FormData(form);
    const s = (k: string) => String(d.get(k) ?? '').trim();
    const body = {
      id: s('id'),
      zone: s('zone'),
      location: { text: { en: s('text') }, x: Number(s('x')), y: Number(s('y')), ...(s('floor') ? { floor: s('floor') } : {}) },
      ...(s('baseConfig') ? { baseConfig: s('baseConfig') } : {}),
    };
    post<{ id: string; token: string }>('/api/kiosks', body).then(
      (r) => {
        showToken(r.id, r.token);
        form.reset();
      },
      (err: Error) => alert(`Not enrolled: ${err.message}`),
    );
  });
  document.querySelector('#fleet tbody')!.addEventListener('click', (ev) => {
    const b = (ev.target as HTMLElement).closest('button[data-act]') as HTMLButtonElement | null;
    if (!b) return;
    const id = b.dataset.kiosk!;
    if (b.dataset.act === 'restart') {
      if (!confirm(`Restart ${id}? It is offline for a few seconds and comes back on its current config.`)) return;
      // the kiosk's own answer: accepted, or refused with the reason (a call, a test or an alarm open)
      post<{ ok: boolean; error?: string }>(`/api/kiosks/${encodeURIComponent(id)}/restart`, {}).then(
        (r) => alert(r.ok ? `${id} is restarting.` : `${id}: ${r.error ?? 'no answer yet'}`),
        (err: Error) => alert(`${id} not restarted: ${err.message}`),
      );
    } else if (b.dataset.act === 'reboot') {
      if (!confirm(`Reboot the board of ${id}? It is offline until the board has started again (a minute or two); the list says when it is back.`)) return;
      // the kiosk's own answer: handed to its system, or refused with the reason; whether it came back follows in the list
      post<{ state?: string; error?: string }>(`/api/kiosks/${encodeURIComponent(id)}/reboot`, {}).then(
        (r) => alert(r.state === 'rebooting' ? `${id} is rebooting.` : `${id}: ${r.error ?? 'no answer yet'}`),
        (err: Error) => alert(`${id} not rebooted: ${err.message}`),
      );
    } else if (b.dataset.act === 'revoke') {
      if (!confirm(`Revoke ${id}? Its token stops working and it is disconnected at once.`)) return;
      void post(`/api/kiosks/${encodeURIComponent(id)}/revoke`, {}).catch((err: Error) => alert(err.message));
    } else if (b.dataset.act === 'replace') {
      if (!confirm(`Replace the hardware of ${id}? A new token is made; the old box is refused from now on. Identity, layers and history stay.`)) return;
      post<{ id: string; token: string }>(`/api/facilities/kiosks/${encodeURIComponent(id)}/replace`, {}).then((r) => showToken(r.id, r.token), (err: Error) => alert(err.message));
    }
  });
}

async function main(): Promise<void> {
  const f = await get<Fleet>('/api/facilities/fleet');
  zoneSel.append(...f.site.zones.map((z) => el('option', { value: z.id }, `${z.name.en} (${z.id})`)));
  drawMap(f);
  live(); // before the first draw: no change between the load and the stream is lost for long (the next change of a kiosk carries its whole state)
  update(f.kiosks);
  zoneSel.addEventListener('change', () => update([...kiosks.values()]));
  document.querySelectorAll<HTMLTableCellElement>('#fleet th[data-key]').forEach((th) =>
    th.addEventListener('click', () => {
      sortDir = sortKey === th.dataset.key ? -sortDir : 1;
      sortKey = th.dataset.key!;
      drawList();
    }),
  );
  await loadRollouts();
  await enrolment();
  document.body.dataset.ready = '1';
}

void main();
