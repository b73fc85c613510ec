// The incidents and drills page: declare (or start a drill), the open and
// closed lists kept apart, and one incident's record: its timeline live,
// receipts of its PA actions, updates, notes, close, export.
import { $, el, feed, get, post, time, toast, zoneChecks, type LocalText } from './api.js';

interface Incident {
  id: string;
  drill: boolean;
  state: 'open' | 'closed';
  title: string;
  kind: string;
  level: string;
  colour: string | null;
  zones: string[];
  blockedExits: string[];
  declaredBy: string;
  declaredAt: string;
  closedAt: string | null;
  summary: string | null;
}
interface Report {
  incident: Incident & { levelName: LocalText };
  timeline: { serial: number; at: string; by: string; kind: string; text: string; detail: any }[];
  actions: { id: string; counts: Record<string, number> & { total: number } }[];
}

export async function incidentsPage(): Promise<void> {
  const cfg = await get<{ zones: { id: string; name: LocalText }[]; levels: { id: string; name: LocalText; colour: string; kind: string }[] }>('/api/pa/config');
  const canAct = document.body.dataset.role === 'dispatcher' || document.body.dataset.role === 'admin';
  const zones = zoneChecks($('declare-zones'), cfg.zones, 'zone');
  for (const sel of document.querySelectorAll<HTMLSelectElement>('select[name=level]'))
    for (const l of cfg.levels) sel.append(el('option', { value: l.id, textContent: `${l.name.en} · ${l.name['zh-CN'] ?? ''} (${l.colour}, ${l.kind})` }));
  let shown: string | undefined = new URLSearchParams(location.search).get('id') ?? undefined;
  const exits = (s: FormDataEntryValue | null) =>
    String(s ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  const text = (en: FormDataEntryValue | null, zh: FormDataEntryValue | null): LocalText | undefined => (String(en ?? '').trim() ? { en: String(en).trim(), ...(String(zh ?? '').trim() ? { 'zh-CN': String(zh).trim() } : {}) } : undefined);

  const declare = $<HTMLFormElement>('declare');
  declare.onsubmit = (e) => {
    e.preventDefault();
    const f = new FormData(declare);
    const drill = (e as SubmitEvent).submitter?.getAttribute('value') === 'drill';
    const body = {
      title: String(f.get('title')),
      zones: zones(),
      level: String(f.get('level')),
      ...(f.get('kind') ? { kind: String(f.get('kind')) } : {}),
      blockedExits: exits(f.get('blocked')),
      ...(text(f.get('en'), f.get('zh')) ? { guidance: text(f.get('en'), f.get('zh')) } : {}),
      drill,
    };
    post<Incident>('/api/incidents', body).then(
      (i) => {
        toast(`${i.drill ? 'Drill started' : 'Incident declared'}: ${i.id}`);
        declare.reset();
        void show(i.id);
        void list();
      },
      (err: Error) => toast(err.message, true),
    );
  };

  async function list(): Promise<void> {
    const all = await get<Incident[]>('/api/incidents');
    const item = (i: Incident) =>
      el('li', { 'data-incident': i.id, 'data-state': i.state, className: `lvl-${i.colour ?? ''}` }, [
        el('button', { type: 'button', className: 'link', textContent: `${i.drill ? 'DRILL · ' : ''}${i.title}`, onclick: () => void show(i.id) }),
        ` ${i.state} · ${i.level} · ${i.zones.join(', ')} · ${time(i.declaredAt)}`,
      ]);
    $('list-real').replaceChildren(...all.filter((i) => !i.drill).map(item));
    $('list-drill').replaceChildren(...all.filter((i) => i.drill).map(item));
  }

  async function show(id: string): Promise<void> {
    shown = id;
    const r = await get<Report>(`/api/incidents/${id}`);
    const i = r.incident;
    const d = $('detail');
    d.hidden = false;
    d.dataset.colour = i.colour ?? '';
    d.dataset.drill = String(i.drill);
    $('h-detail').textContent = `${i.drill ? 'DRILL — ' : ''}${i.title}`;
    $('detail-meta').textContent = `${i.id} · level ${i.levelName.en} (${i.colour}) · ${i.kind} · zones ${i.zones.join(', ')}${i.blockedExits.length ? ` · exits blocked: ${i.blockedExits.join(', ')}` : ''} · declared by ${i.declaredBy} ${time(i.declaredAt)} · ${i.state === 'closed' ? `closed ${time(i.closedAt)}: ${i.summary}` : 'open'}`;
    $<HTMLAnchorElement>('export-csv').href = `/api/incidents/${i.id}/export?format=csv`;
    $<HTMLAnchorElement>('export-json').href = `/api/incidents/${i.id}/export?format=json`;
    $<HTMLAnchorElement>('print').href = `/incidents/${i.id}/print`;
    const counts = new Map(r.actions.map((a) => [a.id, a.counts]));
    $('timeline').replaceChildren(
      ...r.timeline.map((t) => {
        const c = t.detail?.action ? counts.get(t.detail.action) : undefined;
        const detail = c ? `${Object.entries(c).filter(([k, v]) => k !== 'total' && v).map(([k, v]) => `${v} ${k}`).join(', ')} of ${c.total}` : '';
        return el('tr', { 'data-kind': t.kind }, [el('td', { textContent: time(t.at) }), el('td', { textContent: t.by }), el('td', { textContent: t.text }), el('td', { textContent: detail })]);
      }),
    );
    const open = i.state === 'open' && canAct;
    for (const f of ['update', 'note', 'close']) $(f).hidden = !open;
    const upd = $<HTMLFormElement>('update');
    (upd.elements.namedItem('level') as HTMLSelectElement).value = i.level;
    (upd.elements.namedItem('blocked') as HTMLInputElement).value = i.blockedExits.join(', ');
  }

  $<HTMLFormElement>('update').onsubmit = (e) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    post(`/api/incidents/${shown}/update`, { level: String(f.get('level')), blockedExits: exits(f.get('blocked')) }).then(
      () => (toast('Updated: screens follow.'), show(shown!)),
      (err: Error) => toast(err.message, true),
    );
  };
  $<HTMLFormElement>('note').onsubmit = (e) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    post(`/api/incidents/${shown}/note`, { text: String(new FormData(form).get('text')) }).then(
      () => (form.reset(), show(shown!)),
      (err: Error) => toast(err.message, true),
    );
  };
  $<HTMLFormElement>('close').onsubmit = (e) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    post(`/api/incidents/${shown}/close`, { summary: String(new FormData(form).get('summary')) }).then(
      () => (form.reset(), toast('Closed.'), show(shown!), list()),
      (err: Error) => toast(err.message, true),
    );
  };
  if (!canAct) declare.hidden = true;

  feed({
    incident: (d: { id: string }) => {
      void list();
      if (d.id === shown) void show(d.id);
    },
    receipts: () => {
      if (shown) void show(shown);
    },
  });
  await list();
  if (shown) await show(shown);
  document.body.dataset.ready = 'true';
}
