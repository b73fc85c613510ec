// The PA console page: talk to zones (on the map or the list), the receipts
// of every kiosk live, the message library (drafts, audio, approval), plays
// and their cancellation.
import { $, el, feed, get, post, time, toast, upload, zoneChecks, type LocalText } from './api.js';
import { Talk, type BrowserSip, type SipAccount, type TalkState } from './talk.js';

interface Zone {
  id: string;
  name: LocalText;
  paging: boolean;
}
interface Config {
  zones: Zone[];
  levels: { id: string; name: LocalText; colour: string }[];
  languages: string[];
  gateway: { target: string; ready: boolean; error: string | null } | null;
  browser: BrowserSip | null;
  rights: string[];
  user: string;
  map: { width: number; height: number } | null;
}
interface Kiosk {
  id: string;
  zone: string;
  online: boolean;
  location: { x: number; y: number; text: LocalText };
}
type Counts = Record<string, number> & { total: number };
interface Receipt {
  kiosk: string;
  state: string;
  reason: string | null;
  via: string | null;
  updatedAt: string;
}
interface Action {
  id: string;
  kind: 'message' | 'live';
  text: LocalText | null;
  zones: string[];
  channel: string;
  drill: boolean;
  createdBy: string;
  createdAt: string;
  counts?: Counts;
}
interface Message {
  id: string;
  version: number;
  name: string;
  text: LocalText;
  level: string | null;
  audio: Record<string, { synthetic: boolean; seconds: number }>;
  clip: { seconds: number } | null;
  state: string;
  createdBy: string;
  editedBy: string;
  approvedBy: string | null;
}

const STATES = ['pending', 'delivered', 'started', 'finished', 'stopped', 'failed'];

export async function paConsole(): Promise<void> {
  const cfg = await get<Config>('/api/pa/config');
  const kiosks = await get<Kiosk[]>('/api/fleet');
  const canTalk = document.body.dataset.role === 'dispatcher' || document.body.dataset.role === 'admin';
  const canApprove = cfg.rights.includes('pa.approve');
  const chosen = zoneChecks($('zones'), cfg.zones, 'zone', true);
  const playZones = zoneChecks($('play-zones'), cfg.zones, 'play-zone');

  // ---- receipts --------------------------------------------------------------------
  let actions: Action[] = [];
  let current: string | undefined;
  let pinned = false; // the user picked an action: new ones do not take over
  const receipts = new Map<string, Receipt>();
  const select = $<HTMLSelectElement>('action');

  const actionLabel = (a: Action) =>
    `${time(a.createdAt)} · ${a.kind === 'live' ? (a.channel === 'emergency' ? 'EMERGENCY live page' : 'live page') : `message “${a.text?.en ?? ''}”`} · ${a.zones.join(', ')}${a.drill ? ' · DRILL' : ''} · ${a.createdBy}`;

  async function loadActions(): Promise<void> {
    actions = await get<Action[]>('/api/pa/actions?limit=50');
    select.replaceChildren(...actions.map((a) => el('option', { value: a.id, textContent: actionLabel(a) })));
    if (!pinned || !current) current = actions[0]?.id;
    if (current) select.value = current;
    await loadReceipts();
  }

  async function loadReceipts(): Promise<void> {
    receipts.clear();
    if (!current) return renderReceipts();
    const r = await get<{ counts: Counts; receipts: Receipt[] }>(`/api/pa/actions/${current}`);
    for (const x of r.receipts) receipts.set(x.kiosk, x);
    renderReceipts(r.counts);
  }

  function renderReceipts(counts?: Counts): void {
    const c = $('counts');
    c.replaceChildren(
      ...(counts
        ? [`${counts.total} kiosk(s): `, ...STATES.filter((s) => counts[s]).flatMap((s, i) => [i ? ', ' : '', el('span', { className: `st-${s}`, 'data-state': s, textContent: `${counts[s]} ${s}` })])]
        : ['No PA action yet.']),
    );
    if (counts) Object.assign(c.dataset, Object.fromEntries(STATES.map((s) => [s, String(counts[s] ?? 0)])), { total: String(counts.total) });
    $('receipts').replaceChildren(
      ...[...receipts.values()].map((r) =>
        el('tr', { 'data-kiosk': r.kiosk, 'data-state': r.state }, [
          el('th', { scope: 'row', textContent: r.kiosk }),
          el('td', { className: `st-${r.state}`, textContent: r.state }),
          el('td', { textContent: r.reason ?? '' }),
          el('td', { textContent: r.via ?? '' }),
          el('td', { textContent: time(r.updatedAt) }),
        ]),
      ),
    );
    drawMap();
  }

  select.onchange = () => {
    pinned = true;
    current = select.value;
    void loadReceipts();
  };

  // ---- the map: kiosks by position, coloured by their receipt; choose a kiosk to choose its zone --------
  function drawMap(): void {
    const box = $('map');
    const w = cfg.map?.width ?? 200;
    const h = cfg.map?.height ?? 120;
    const NS = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
    const selected = new Set(chosen());
    for (const k of kiosks) {
      const r = receipts.get(k.id);
      const g = document.createElementNS(NS, 'g');
      g.setAttribute('class', `kiosk st-${r?.state ?? (k.online ? 'idle' : 'offline')}${selected.has(k.zone) ? ' chosen' : ''}`);
      g.setAttribute('role', 'button');
      g.setAttribute('tabindex', '0');
      g.setAttribute('data-kiosk', k.id);
      const label = `${k.id}, zone ${k.zone}${r ? `, ${r.state}` : k.online ? '' : ', offline'}`;
      g.setAttribute('aria-label', label);
      const c = document.createElementNS(NS, 'circle');
      for (const [a, v] of Object.entries({ cx: k.location.x, cy: k.location.y, r: 5 })) c.setAttribute(a, String(v));
      const t = document.createElementNS(NS, 'title');
      t.textContent = label;
      const tx = document.createElementNS(NS, 'text');
      for (const [a, v] of Object.entries({ x: k.location.x + 7, y: k.location.y + 3, 'font-size': 6 })) tx.setAttribute(a, String(v));
      tx.textContent = k.id;
      g.append(t, c, tx);
      const toggle = () => {
        const box = document.querySelector<HTMLInputElement>(`#zones input[value="${CSS.escape(k.zone)}"]`);
        if (box && !box.disabled) {
          box.checked = !box.checked;
          drawMap();
        }
      };
      g.addEventListener('click', toggle);
      g.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          toggle();
        }
      });
      svg.append(g);
    }
    box.replaceChildren(svg);
  }
  $('zones').addEventListener('change', drawMap);

  // ---- talk -----------------------------------------------------------------------------
  const talkBtn = $<HTMLButtonElement>('talk');
  const latch = $<HTMLInputElement>('latch');
  const gw = cfg.gateway;
  $('gateway-state').textContent = !gw
    ? 'Live pages are not set up on this hub (pa.gateway).'
    : !cfg.browser
      ? 'This console has no SIP account for live pages (pa.browser).'
      : gw.ready
        ? `Page gateway ready (${gw.target}).`
        : `Page gateway not ready: ${gw.error ?? 'not registered'}.`;
  let talk: Talk | undefined;
  const showTalk = (state: TalkState, text: string) => {
    $('talk-state').textContent = text;
    document.body.dataset.talk = state;
    const on = state === 'starting' || state === 'chime' || state === 'live';
    talkBtn.setAttribute('aria-pressed', String(on));
    talkBtn.textContent = on ? (latch.checked ? 'Stop talking' : 'Talking… release to end') : latch.checked ? 'Start talking' : 'Hold to talk';
    talkBtn.disabled = state === 'off' || state === 'ending';
  };
  if (canTalk && gw && cfg.browser) {
    const browserSip = cfg.browser;
    // The dispatcher's own SIP account (their desk's): kept in this tab only, never sent to the hub.
    const KEY = 'helppoint.pa.sip';
    const login = $<HTMLFormElement>('sip-login');
    const startPhone = () =>
      talk!.start($<HTMLInputElement>('processing').checked).then(
        () => (login.hidden = true),
        (e: Error) => {
          login.hidden = false;
          showTalk('off', `Microphone line not connected: ${e.message}`);
          toast(`Microphone line not connected: ${e.message}`, true);
        },
      );
    const connect = (acct: SipAccount) => {
      talk = new Talk({ ...browserSip, ...acct }, chosen, () => $<HTMLInputElement>('emergency').checked, showTalk);
      talk.onPage = (id) => {
        pinned = false;
        current = id;
      };
      // For the benchmark (and the browser console): the talk in progress.
      (window as unknown as { helppointPa?: { talk: Talk } }).helppointPa = { talk };
      void startPhone();
    };
    login.onsubmit = (e) => {
      e.preventDefault();
      const f = new FormData(login);
      const acct = { user: String(f.get('user')), password: String(f.get('password')) };
      sessionStorage.setItem(KEY, JSON.stringify(acct));
      connect(acct);
    };
    $<HTMLInputElement>('sip-user').value = browserSip.user ?? '';
    const saved = sessionStorage.getItem(KEY);
    if (saved) connect(JSON.parse(saved) as SipAccount);
    else {
      login.hidden = false;
      showTalk('off', 'Connect the microphone line with your desk\'s SIP account first.');
    }
    $('processing').addEventListener('change', () => talk && void startPhone());
    const down = () => (!talk ? undefined : latch.checked ? (talk.state === 'idle' ? talk.press() : talk.release()) : talk.press());
    const up = () => {
      if (!latch.checked) void talk?.release();
    };
    talkBtn.addEventListener('pointerdown', (e) => {
      talkBtn.setPointerCapture(e.pointerId);
      void down();
    });
    talkBtn.addEventListener('pointerup', up);
    talkBtn.addEventListener('pointercancel', up);
    talkBtn.addEventListener('keydown', (e) => {
      if ((e.key === ' ' || e.key === 'Enter') && !e.repeat) {
        e.preventDefault();
        void down();
      }
    });
    talkBtn.addEventListener('keyup', (e) => {
      if (e.key === ' ' || e.key === 'Enter') up();
    });
    latch.addEventListener('change', () => showTalk(talk?.state ?? 'off', $('talk-state').textContent ?? ''));
  } else {
    talkBtn.disabled = true;
    if (!canTalk) $('talk-state').textContent = 'Your role cannot talk to zones.';
  }

  // ---- message library --------------------------------------------------------------------
  const levelSel = document.querySelector<HTMLSelectElement>('#new-message select[name=level]')!;
  for (const l of cfg.levels) levelSel.append(el('option', { value: l.id, textContent: `${l.name.en} (${l.colour})` }));
  let messages: { latest: Message; approved: Message | null }[] = [];

  async function loadMessages(): Promise<void> {
    messages = await get<typeof messages>('/api/pa/messages');
    const rows = messages.map(({ latest: m, approved }) => {
      const audio = cfg.languages.map((l) => {
        const a = m.audio[l];
        return el('span', { className: a ? 'ok' : 'missing', textContent: `${l}: ${a ? `${a.seconds.toFixed(1)} s${a.synthetic ? ' (synthetic)' : ''}` : 'none'}` });
      });
      const acts: HTMLElement[] = [];
      if (m.state === 'draft' && canTalk) {
        acts.push(el('button', { type: 'button', textContent: 'Speak it (espeak-ng, synthetic)', onclick: () => void run(post(`/api/pa/messages/${m.id}/synthesise`, {}), 'Synthetic audio made.') }));
        for (const l of cfg.languages) {
          const input = el('input', { type: 'file', accept: 'audio/wav,.wav', 'aria-label': `Upload the ${l} recording of ${m.name}` });
          input.onchange = () => input.files?.[0] && void run(upload(`/api/pa/messages/${m.id}/audio/${l}`, input.files[0]), `${l} recording uploaded.`);
          acts.push(el('label', { className: 'file' }, [`Upload ${l} `, input]));
        }
      }
      if (m.state === 'draft' && canApprove) {
        const mine = m.createdBy === cfg.user || m.editedBy === cfg.user;
        acts.push(
          el('button', {
            type: 'button',
            className: 'approve',
            'data-approve': m.id,
            textContent: `Approve v${m.version}`,
            disabled: mine || !m.clip,
            title: mine ? 'A second user approves: you wrote or changed this draft' : !m.clip ? 'Audio for every language first' : '',
            onclick: () => void run(post(`/api/pa/messages/${m.id}/approve`, { version: m.version }), `${m.name} v${m.version} approved.`),
          }),
        );
      }
      if (canTalk) acts.push(el('button', { type: 'button', textContent: 'Edit', onclick: () => edit(m) }));
      const state = m.state === 'draft' ? `draft v${m.version}${approved ? ` (v${approved.version} approved by ${approved.approvedBy})` : ' (not approved: cannot play)'}` : `${m.state} v${m.version}${m.approvedBy ? ` by ${m.approvedBy}` : ''}`;
      return el('tr', { 'data-message': m.id, 'data-state': m.state }, [
        el('th', { scope: 'row' }, [m.name, el('br'), el('small', { textContent: m.id })]),
        el('td', {}, [el('span', { lang: 'en', textContent: m.text.en }), el('br'), el('span', { lang: 'zh-CN', textContent: m.text['zh-CN'] ?? '' })]),
        el('td', { textContent: m.level ?? '' }),
        el('td', { textContent: state }),
        el('td', {}, audio.flatMap((a, i) => (i ? [el('br'), a] : [a]))),
        el('td', { className: 'acts' }, acts),
      ]);
    });
    $('messages').replaceChildren(...rows);
    const playable = messages.filter((x) => x.approved);
    const sel = document.querySelector<HTMLSelectElement>('#play select[name=message]')!;
    const was = sel.value;
    sel.replaceChildren(...playable.map((x) => el('option', { value: x.latest.id, textContent: `${x.approved!.name} (v${x.approved!.version})` })));
    if (was) sel.value = was;
  }

  async function run(p: Promise<unknown>, done: string): Promise<void> {
    try {
      await p;
      toast(done);
      await loadMessages();
    } catch (e) {
      toast((e as Error).message, true);
    }
  }

  const form = $<HTMLFormElement>('new-message');
  let editing: string | undefined;
  function edit(m: Message): void {
    editing = m.id;
    (form.elements.namedItem('name') as HTMLInputElement).value = m.name;
    (form.elements.namedItem('en') as HTMLTextAreaElement).value = m.text.en;
    (form.elements.namedItem('zh') as HTMLTextAreaElement).value = m.text['zh-CN'] ?? '';
    levelSel.value = m.level ?? '';
    form.querySelector('h3')!.textContent = `Change ${m.name} (${m.state === 'approved' ? 'makes a new draft version' : 'the draft'})`;
    (form.elements.namedItem('name') as HTMLInputElement).focus();
  }
  form.onsubmit = (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const body = { name: String(f.get('name')), text: { en: String(f.get('en')), 'zh-CN': String(f.get('zh')) }, level: String(f.get('level')) || null };
    const p = editing ? post(`/api/pa/messages/${editing}`, body) : post('/api/pa/messages', body);
    void run(p, editing ? 'Draft changed.' : 'Draft saved: add audio, then ask a second user to approve it.').then(() => {
      editing = undefined;
      form.reset();
      form.querySelector('h3')!.textContent = 'New draft';
    });
  };

  // ---- plays ---------------------------------------------------------------------------------
  const playForm = $<HTMLFormElement>('play');
  playForm.onsubmit = (e) => {
    e.preventDefault();
    const f = new FormData(playForm);
    const every = Number(f.get('every') || 0);
    const times = Number(f.get('times') || 0);
    const at = String(f.get('at') || '');
    const body = {
      message: String(f.get('message')),
      zones: playZones(),
      channel: String(f.get('channel')),
      ...(at ? { at: new Date(at).toISOString() } : {}),
      ...(every ? { everyS: every * 60 } : {}),
      ...(times ? { times } : {}),
      ...(f.get('drill') ? { drill: true } : {}),
    };
    post('/api/pa/plays', body).then(
      () => {
        toast(at ? 'Scheduled.' : 'Playing.');
        pinned = false;
        void loadPlays();
      },
      (err: Error) => toast(err.message, true),
    );
  };

  async function loadPlays(): Promise<void> {
    const plays = await get<{ id: string; messageId: string; zones: string[]; kiosks: string[] | null; nextAt: string | null; everyS: number | null; times: number | null; fired: number; createdBy: string }[]>('/api/pa/plays?active=true');
    $('plays').replaceChildren(
      ...plays.map((p) =>
        el('tr', { 'data-play': p.id }, [
          el('th', { scope: 'row', textContent: p.messageId }),
          el('td', { textContent: p.zones.join(', ') || (p.kiosks ?? []).join(', ') }),
          el('td', { textContent: time(p.nextAt) }),
          el('td', { textContent: p.everyS ? `every ${Math.round(p.everyS / 60) || `${p.everyS} s`} min, ${p.fired}${p.times ? ` of ${p.times}` : ''} played` : 'once' }),
          el('td', { textContent: p.createdBy }),
          el('td', {}, canTalk ? [el('button', { type: 'button', textContent: 'Cancel', onclick: () => post(`/api/pa/plays/${p.id}/cancel`).then(() => (toast('Cancelled.'), loadPlays()), (e: Error) => toast(e.message, true)) })] : []),
        ]),
      ),
    );
  }

  // ---- live feed -------------------------------------------------------------------------
  feed({
    receipts: (d: { action: string; counts: Counts; changed: Receipt[] }) => {
      const a = actions.find((x) => x.id === d.action);
      if (a) a.counts = d.counts;
      if (d.action !== current) return;
      for (const r of d.changed) receipts.set(r.kiosk, r);
      renderReceipts(d.counts);
    },
    action: () => void loadActions(),
    page: (d) => talk?.pageEvent(d),
    play: () => void loadPlays(),
    message: () => void loadMessages(),
  });

  await Promise.all([loadActions(), loadMessages(), loadPlays()]);
  document.body.dataset.ready = 'true';
}
