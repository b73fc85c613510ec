// The dispatch desk page: the live alarm board, the browser phone and the
// chat with the caller's screen. State comes from GET /api/desk/board, then
// changes from the server-sent stream (/api/stream?topics=desk). Every
// action says what happened in the notice line; nothing fails silently.
//
// Acknowledge and Reset go in-band on the alarm's own call when this desk is
// talking to the kiosk (SIP INFO application/x-helppoint-alarm), else
// through the hub (alarm.ack / alarm.reset commands).
import { DeskPhone, type CallInfo } from './phone.js';
import { Listener } from './listen.js';
import { drawFloorplan, kioskMarker, type SiteMap } from '../floorplan.js';

interface Row {
  ref: string;
  type: 'alarm' | 'call';
  kind: 'emergency' | 'information';
  kiosk: string;
  zone: string;
  location: { text?: { en?: string; 'zh-CN'?: string }; x?: number; y?: number } | null;
  category: string | null;
  lang: string | null;
  state: string;
  raisedAt: string;
  at: string;
  attempt: number | null;
  target: string | null;
  reason: string | null;
  claim: { user: string; desk: string; mode: string; confirmed?: boolean } | null;
}
interface QuickReply {
  id: string;
  text: { en: string; 'zh-CN'?: string };
}
interface ChatLine {
  kiosk: string;
  from: 'caller' | 'desk';
  text: string;
  lang?: string | null;
  at: string;
  shown?: boolean;
}

/** alarm states in which the answering desk may still be in the call (acknowledged in the call: it goes on) */
const IN_CALL = ['talking', 'acknowledged'];
const $ = (id: string) => document.getElementById(id)!;
const csrf = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')!.content;

const S = {
  rows: new Map<string, Row>(),
  skew: 0,
  desk: null as string | null,
  phone: null as DeskPhone | null,
  /** the kiosk whose chat is open */
  chatKiosk: null as string | null,
  chat: [] as ChatLine[],
  quick: [] as QuickReply[],
  streamOpen: false,
  log: [] as string[],
  /** the site allows listening in (hub config desk.listenIn) */
  listenIn: false,
  /** this session may listen to a call another desk answered (admin, with rtpengine configured) */
  listenCall: false,
  /** listening to calls other desks answered: alarm ref -> the hub's listen-in id and the receive-only peer */
  listening: new Map<string, { id: string; listener: Listener }>(),
  /** the kiosk whose call the DTMF pad sends to */
  padKiosk: null as string | null,
  /** calls this desk placed (call back, listen in): call id -> kiosk */
  dialed: new Map<string, string>(),
  /** the mini map: the site's floor plan with a marker per kiosk that has an open alarm */
  map: null as SVGSVGElement | null,
};

function notice(text: string): void {
  $('notice').textContent = text;
  S.log.push(text);
}

async function api<T = any>(method: 'GET' | 'POST', url: string, body?: unknown): Promise<{ status: number; body: T }> {
  const r = await fetch(url, {
    method,
    headers: method === 'POST' ? { 'content-type': 'application/json', 'x-csrf-token': csrf } : {},
    body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined,
  });
  const text = await r.text();
  return { status: r.status, body: (text ? JSON.parse(text) : null) as T };
}

// ---- the board -----------------------------------------------------------------------

function sorted(): Row[] {
  return [...S.rows.values()].sort((a, b) => (a.kind === b.kind ? Date.parse(a.raisedAt) - Date.parse(b.raisedAt) : a.kind === 'emergency' ? -1 : 1));
}

const userOf = (uri: string | null) => (uri ? (/^sips?:([^@;>]+)@/.exec(uri)?.[1] ?? uri) : '');
const waiting = (r: Row) => Math.max(0, Math.round((Date.now() - S.skew - Date.parse(r.raisedAt)) / 1000));
const fmtWait = (s: number) => (s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`);

/** The phone call with this kiosk, if any: its call to us (the kiosk's X-Helppoint-Kiosk header) or ours to it. */
function callOf(kiosk: string): CallInfo | undefined {
  return S.phone?.list().find((c) => c.state !== 'ended' && (c.headers['x-helppoint-kiosk'] === kiosk || S.dialed.get(c.id) === kiosk));
}

function button(label: string, act: string, ref: string, disabled = false): HTMLButtonElement {
  const b = document.createElement('button');
  b.textContent = label;
  b.dataset.act = act;
  b.dataset.ref = ref;
  b.disabled = disabled;
  b.onclick = () => void action(act, ref);
  return b;
}

/** Markers of the kiosks with open alarms on the mini map (emergency red, information blue, taken grey). */
function renderMap(rows: Row[]): void {
  const map = S.map;
  if (!map) return;
  const open = new Map<string, Row>();
  for (const r of rows) if (!open.has(r.kiosk) && typeof r.location?.x === 'number' && typeof r.location?.y === 'number') open.set(r.kiosk, r);
  for (const g of map.querySelectorAll<SVGGElement>('g[data-kiosk]')) if (!open.has(g.dataset.kiosk!)) g.remove();
  for (const [kiosk, r] of open) {
    const g = kioskMarker(map, kiosk, { x: r.location!.x!, y: r.location!.y! });
    g.setAttribute('class', `kiosk ${r.kind}${r.claim && r.claim.desk !== S.desk ? ' taken' : ''}`);
    g.querySelector('title')!.textContent = `${kiosk}: ${r.category ?? r.kind} · ${r.state} · ${r.location?.text?.en ?? ''}`;
  }
}

function render(): void {
  const rows = sorted();
  renderMap(rows);
  $('empty').hidden = rows.length > 0;
  const body = $('board');
  body.replaceChildren(
    ...rows.map((r) => {
      const tr = document.createElement('tr');
      tr.dataset.ref = r.ref;
      tr.dataset.kiosk = r.kiosk;
      tr.dataset.state = r.state;
      tr.className = `${r.kind}${r.claim && r.claim.desk !== S.desk ? ' taken' : ''}`;
      const cells = [
        r.kind,
        r.kiosk,
        r.zone,
        r.location?.text?.en ?? '',
        r.category ?? '',
        r.lang ?? '',
        r.state,
        fmtWait(waiting(r)),
        r.attempt === null ? '' : String(r.attempt),
        userOf(r.target),
        r.claim ? `${r.claim.user} (${r.claim.desk})` : '',
      ];
      for (const [i, c] of cells.entries()) {
        const td = document.createElement('td');
        if (i === 1) {
          // The kiosk's history (alarms, calls with media statistics, chat, who acknowledged and reset).
          const a = document.createElement('a');
          a.href = `/desk/kiosks/${encodeURIComponent(c)}/history`;
          a.target = '_blank';
          a.textContent = c;
          td.append(a);
        } else td.textContent = c;
        td.className = ['kind', 'kiosk', 'zone', 'location', 'category', 'lang', 'state', 'waiting', 'attempt', 'target', 'claim'][i]!;
        tr.append(td);
      }
      const acts = document.createElement('td');
      const call = callOf(r.kiosk);
      const ringing = call?.state === 'ringing';
      const talking = call && call.state !== 'ringing';
      if (r.type === 'alarm') {
        acts.append(
          button('Answer', 'answer', r.ref, !ringing),
          button('Acknowledge', 'ack', r.ref, r.state === 'acknowledged'),
          button('Reset', 'reset', r.ref),
        );
      } else acts.append(button('Answer', 'answer', r.ref, !ringing));
      const up = call?.state === 'established';
      acts.append(
        button('Hang up', 'hangup', r.ref, !talking && !ringing),
        button(call?.held ? 'Resume' : 'Hold', 'hold', r.ref, !up),
        button(call?.muted ? 'Unmute' : 'Mute', 'mute', r.ref, !up),
        button('Keypad', 'keypad', r.ref, !up),
        button('Call back', 'callback', r.ref, !!call || !S.phone),
      );
      if (S.listenIn) acts.append(button('Listen in', 'listen', r.ref, !!call || !S.phone));
      // A call another desk answered: hear it without joining it (rtpengine's copy of its media).
      if (S.listenCall && r.type === 'alarm' && (S.listening.has(r.ref) || (IN_CALL.includes(r.state) && r.claim?.confirmed && r.claim.desk !== S.desk)))
        acts.append(S.listening.has(r.ref) ? button('Stop', 'unlisten', r.ref) : button('Listen', 'listencall', r.ref));
      acts.append(button('Open door', 'door', r.ref), button('Chat', 'chat', r.ref));
      tr.append(acts);
      return tr;
    }),
  );
}

// Waiting times move every second.
setInterval(() => {
  for (const tr of document.querySelectorAll<HTMLTableRowElement>('#board tr')) {
    const r = S.rows.get(tr.dataset.ref!);
    const td = tr.querySelector('td.waiting');
    if (r && td) td.textContent = fmtWait(waiting(r));
  }
}, 1000);

function put(row: Row): void {
  const fresh = !S.rows.has(row.ref);
  if (row.state === 'reset') S.rows.delete(row.ref);
  else S.rows.set(row.ref, row);
  // The call heard is over (hung up, handed on, the alarm reset): the hub unsubscribes too.
  if (S.listening.has(row.ref) && (!IN_CALL.includes(row.state) || !row.claim?.confirmed)) stopListening(row.ref, 'the call ended');
  if (fresh && row.kind === 'emergency' && row.state !== 'reset') announce(row);
  render();
}

/** A new alarm: a sound and, where allowed, a browser notification. */
/** One AudioContext for the alarm sound, made on the first alarm: browsers cap how many a page may hold. */
let chime: AudioContext | undefined;

function announce(row: Row): void {
  try {
    const ctx = (chime ??= new AudioContext());
    if (ctx.state === 'suspended') void ctx.resume().catch(() => {});
    const osc = ctx.createOscillator();
    osc.frequency.value = 880;
    osc.connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.3);
  } catch {
    /* no audio output: the row and the title still show it */
  }
  if ('Notification' in window && Notification.permission === 'granted') new Notification(`Alarm: ${row.kiosk}`, { body: `${row.location?.text?.en ?? row.zone} · ${row.category ?? 'emergency'}` });
  document.title = `(!) ${row.kiosk} — dispatch desk`;
}

// ---- actions ---------------------------------------------------------------------------------

async function action(act: string, ref: string): Promise<void> {
  const row = S.rows.get(ref);
  if (!row) return notice(`${ref} is no longer open`);
  const call = callOf(row.kiosk);
  try {
    switch (act) {
      case 'answer': {
        if (!S.phone || !call) return notice(`no call from ${row.kiosk} is ringing at this desk`);
        if (row.type === 'alarm') {
          // The SIP Call-ID goes with the claim: the hub finds the call at rtpengine by it for a listen-in.
          const c = await api('POST', `/api/desk/alarms/${encodeURIComponent(ref)}/claim`, { mode: 'answer', sipCallId: call.sipCallId });
          if (c.status !== 200) return notice(`not answered: ${c.body?.error ?? c.status}`);
        }
        await S.phone.answer(call.id);
        openChat(row.kiosk);
        return notice(`talking to ${row.kiosk}`);
      }
      case 'ack':
      case 'reset': {
        if (call && call.state === 'established' && S.phone) {
          const status = await S.phone.alarm(call.id, act);
          return notice(`${act === 'ack' ? 'acknowledged' : 'reset'} on the call (${status})`);
        }
        const r = await api('POST', `/api/desk/alarms/${encodeURIComponent(ref)}/${act}`);
        return notice(r.body?.ok ? `${act === 'ack' ? 'acknowledged' : 'reset'} through the hub` : `not ${act === 'ack' ? 'acknowledged' : 'reset'}: ${r.body?.error ?? r.status}`);
      }
      case 'hangup': {
        if (!S.phone || !call) return notice(`no call with ${row.kiosk}`);
        if (call.state === 'ringing') await S.phone.reject(call.id);
        else await S.phone.hangup(call.id);
        if (row.type === 'alarm') await api('POST', `/api/desk/alarms/${encodeURIComponent(ref)}/release`);
        return notice(`hung up on ${row.kiosk}`);
      }
      case 'hold': {
        if (!S.phone || call?.state !== 'established') return notice(`no call with ${row.kiosk} to hold`);
        await S.phone.hold(call.id, !call.held);
        return notice(`${call.held ? 'resumed' : 'holding'} ${row.kiosk}`);
      }
      case 'mute': {
        if (!S.phone || call?.state !== 'established') return notice(`no call with ${row.kiosk} to mute`);
        S.phone.mute(call.id, !call.muted);
        return notice(`microphone ${call.muted ? 'on' : 'off'} for ${row.kiosk}`);
      }
      case 'keypad':
        return openPad(row.kiosk);
      case 'callback':
      case 'listen': {
        if (!S.phone) return notice('no desk phone: take a desk first');
        if (call) return notice(`already in a call with ${row.kiosk}`);
        const listen = act === 'listen';
        const r = await api('POST', `/api/desk/kiosks/${encodeURIComponent(row.kiosk)}/call`, { listen });
        if (r.status !== 200) return notice(`${listen ? 'not listening in' : 'not called back'}: ${r.body?.error ?? r.status}`);
        // Auto-answer is asked for; the kiosk grants it only to a trusted desk (else it rings there).
        const id = await S.phone.dial(r.body.uri, { autoAnswer: true, muted: listen, headers: [`X-Helppoint-Desk-Call: ${listen ? 'listen' : 'callback'}`] });
        S.dialed.set(id, row.kiosk);
        render();
        return notice(`${listen ? 'listening in on' : 'calling back'} ${row.kiosk}`);
      }
      case 'listencall': {
        if (S.listening.has(ref)) return notice(`already listening to ${row.kiosk}`);
        const r = await api('POST', `/api/desk/alarms/${encodeURIComponent(ref)}/listen`);
        if (r.status !== 200) return notice(`not listening: ${r.body?.error ?? r.status}`);
        const listener = new Listener();
        S.listening.set(ref, { id: r.body.id, listener });
        try {
          await listener.setSpeaker(localStorage.getItem(DEVICE_KEYS.spk) ?? '').catch(() => {});
          const a = await api('POST', `/api/desk/listen/${encodeURIComponent(r.body.id)}/answer`, { sdp: await listener.answer(r.body.sdp) });
          if (a.status !== 200) throw new Error(a.body?.error ?? String(a.status));
        } catch (err) {
          stopListening(ref);
          return notice(`not listening: ${(err as Error).message}`);
        }
        render();
        return notice(`listening to ${row.kiosk} and desk ${r.body.desk} (they do not hear you)`);
      }
      case 'unlisten':
        stopListening(ref);
        return notice(`stopped listening to ${row.kiosk}`);
      case 'door': {
        const r = await api('POST', `/api/desk/kiosks/${encodeURIComponent(row.kiosk)}/door`);
        return notice(r.body?.ok ? `door of ${row.kiosk} opened` : `door not opened: ${r.body?.error ?? r.status}`);
      }
      case 'chat':
        return openChat(row.kiosk);
    }
  } catch (err) {
    notice(`${act} failed: ${(err as Error).message}`);
  }
}

/**
 * Ends a listen-in here. Stop (no `why`) asks the hub to unsubscribe at
 * rtpengine; when the call ended, the alarm closed or the session ended the
 * hub ends it by itself (and records why).
 */
function stopListening(ref: string, why?: string): void {
  const l = S.listening.get(ref);
  if (!l) return;
  S.listening.delete(ref);
  l.listener.close();
  if (!why) void api('POST', `/api/desk/listen/${encodeURIComponent(l.id)}/stop`).catch(() => {});
  if (why) notice(`stopped listening: ${why}`);
  render();
}

// ---- the DTMF pad ------------------------------------------------------------------------------

function openPad(kiosk: string): void {
  S.padKiosk = kiosk;
  $('pad').hidden = false;
  $('pad-kiosk').textContent = kiosk;
}

async function padDigit(digit: string): Promise<void> {
  const k = S.padKiosk;
  const call = k ? callOf(k) : undefined;
  if (!S.phone || !call || call.state !== 'established') return notice('the keypad needs a call in progress');
  try {
    await S.phone.dtmf(call.id, digit);
    notice(`sent ${digit} to ${k}`);
  } catch (err) {
    notice(`DTMF not sent: ${(err as Error).message}`);
  }
}

for (const b of document.querySelectorAll<HTMLButtonElement>('#pad button[data-digit]')) b.onclick = () => void padDigit(b.dataset.digit!);

// ---- chat ------------------------------------------------------------------------------------

function openChat(kiosk: string): void {
  S.chatKiosk = kiosk;
  $('chat').hidden = false;
  $('chat-kiosk').textContent = kiosk;
  renderChat();
}

function renderChat(): void {
  const k = S.chatKiosk;
  if (!k) return;
  const lang = [...S.rows.values()].find((r) => r.kiosk === k)?.lang;
  $('chat-lang').textContent = lang ? `caller reads ${lang}` : '';
  $('chat-log').replaceChildren(
    ...S.chat
      .filter((l) => l.kiosk === k)
      .map((l) => {
        const li = document.createElement('li');
        li.className = l.from;
        li.textContent = `${l.from === 'caller' ? 'Caller' : 'Desk'}: ${l.text}`;
        return li;
      }),
  );
  $('quick').replaceChildren(
    ...S.quick.map((q) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.dataset.reply = q.id;
      b.textContent = q.text.en;
      b.title = q.text['zh-CN'] ?? '';
      b.onclick = () => void sendChat({ reply: q.id });
      return b;
    }),
  );
}

async function sendChat(body: { text?: string; reply?: string }): Promise<void> {
  const k = S.chatKiosk;
  if (!k) return;
  const r = await api('POST', `/api/desk/kiosks/${encodeURIComponent(k)}/chat`, body);
  if (!r.body?.ok) notice(`message not delivered: ${r.body?.error ?? r.status}`);
}

$('eta-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const k = S.chatKiosk;
  if (!k) return;
  const eta = ($('eta-min') as HTMLInputElement).value.trim();
  const responder = ($('eta-responder') as HTMLInputElement).value.trim();
  const body: { etaMin?: number; responder?: string } = {};
  if (eta) body.etaMin = Number(eta);
  if (responder) body.responder = responder;
  void api('POST', `/api/desk/kiosks/${encodeURIComponent(k)}/info`, body).then((r) =>
    notice(r.body?.ok ? `ETA and responder shown on ${k}'s screen` : `not shown on ${k}'s screen: ${r.body?.error ?? r.status}`),
  );
});

$('chat-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $('chat-input') as HTMLInputElement;
  const text = input.value.trim();
  input.value = '';
  if (text) void sendChat({ text });
});

// ---- the live stream ------------------------------------------------------------------------

async function load(): Promise<void> {
  const r = await api('GET', '/api/desk/board');
  if (r.status !== 200) return notice(`board not loaded: ${r.status}`);
  S.skew = Date.now() - r.body.now;
  S.quick = r.body.quickReplies ?? [];
  S.listenIn = r.body.listenIn === true;
  S.listenCall = r.body.listenCall === true;
  if (!S.map) S.map = drawFloorplan($('minimap'), (r.body.map ?? null) as SiteMap | null);
  S.rows.clear();
  for (const row of r.body.rows as Row[]) S.rows.set(row.ref, row);
  render();
}

function follow(): void {
  const es = new EventSource('/api/stream?topics=desk');
  es.onopen = () => {
    S.streamOpen = true;
    $('status').textContent = S.desk ? `desk ${S.desk} · live` : 'live (no desk)';
    // Changes missed while the stream was down: read the board again.
    void load();
  };
  es.onerror = () => {
    S.streamOpen = false;
    $('status').textContent = 'reconnecting…';
  };
  const on = (name: string, fn: (d: any) => void) => es.addEventListener(name, (e) => fn(JSON.parse((e as MessageEvent).data)));
  on('desk.row', (row: Row) => put(row));
  on('desk.rows', (rows: Row[]) => rows.forEach(put));
  on('desk.gone', (d: { ref: string }) => {
    S.rows.delete(d.ref);
    stopListening(d.ref, 'the alarm is closed');
    render();
  });
  on('desk.chat', (l: ChatLine) => {
    // The kiosk's receipt of a desk line (shown: true) repeats a line already listed.
    if (l.from === 'desk' && l.shown) return;
    S.chat.push(l);
    if (l.from === 'caller' && S.chatKiosk === null) openChat(l.kiosk);
    renderChat();
  });
  on('desk.seats', (seats: { desk: string; user: string }[]) => {
    // The hub let go of this page's desk (logged out elsewhere, session over): stop ringing here at once.
    // A list read before this page took its desk may arrive after: ask the hub before letting go.
    if (S.desk && !seats.some((x) => x.desk === S.desk))
      void api('GET', '/api/desk/board').then((r) => {
        if (r.status !== 200 || r.body.mySeat !== S.desk) void dropDesk('the desk was let go at the hub');
      });
  });
  on('bye', (d: { reason: string }) => {
    es.close();
    for (const ref of [...S.listening.keys()]) stopListening(ref, d.reason);
    void dropDesk(d.reason);
    notice(`stream ended: ${d.reason}`);
  });
}

// ---- the phone ----------------------------------------------------------------------------------

/** The phone unregisters: kiosks hunting for this desk skip it from now on. */
async function dropDesk(why: string): Promise<void> {
  const phone = S.phone;
  if (!phone) return;
  S.phone = null;
  S.desk = null;
  $('status').textContent = `no desk (${why})`;
  await phone.stop().catch(() => {});
  render();
}

async function takeDesk(): Promise<void> {
  const r = await api('POST', '/api/desk/seat');
  if (r.status !== 200) return notice(`no desk: ${r.body?.error ?? r.status} (the board works; answer calls elsewhere)`);
  S.desk = r.body.desk;
  const phone = new DeskPhone({ ...r.body.sip, displayName: r.body.name });
  S.phone = phone;
  for (const ev of ['incoming', 'established', 'ended', 'updated'] as const) phone.on(ev, () => render());
  phone.on('incoming', (c) => notice(`ringing: ${c.headers['x-helppoint-kiosk'] ?? c.remoteUri}`));
  phone.on('error', (e) => notice(`phone: ${e.message}`));
  // Device names appear once the page has opened the microphone (the first call).
  phone.on('established', () => void listDevices().catch(() => {}));
  try {
    await phone.start();
    $('status').textContent = `desk ${S.desk} · ${S.streamOpen ? 'live' : 'connecting…'}`;
  } catch (err) {
    notice(`phone not registered: ${(err as Error).message}`);
  }
  await restoreDevices(phone);
}

// ---- microphone and speaker --------------------------------------------------------------------

const DEVICE_KEYS = { mic: 'helppoint.desk.microphone', spk: 'helppoint.desk.speaker' } as const;

/** Fills the two pickers from the browser's devices (names appear once the page may use the microphone). */
async function listDevices(): Promise<void> {
  const phone = S.phone;
  if (!phone || !navigator.mediaDevices?.enumerateDevices) {
    $('devices').hidden = true;
    return;
  }
  $('devices').hidden = false;
  const { microphones, speakers } = await phone.devices();
  const fill = (sel: HTMLSelectElement, list: MediaDeviceInfo[], what: string, chosen: string) => {
    const options = [{ id: '', label: `system default ${what}` }, ...list.filter((d) => d.deviceId && d.deviceId !== 'default').map((d, i) => ({ id: d.deviceId, label: d.label || `${what} ${i + 1}` }))];
    sel.replaceChildren(
      ...options.map((o) => {
        const opt = document.createElement('option');
        opt.value = o.id;
        opt.textContent = o.label;
        opt.selected = o.id === chosen;
        return opt;
      }),
    );
  };
  fill($('mic-select') as HTMLSelectElement, microphones, 'microphone', localStorage.getItem(DEVICE_KEYS.mic) ?? '');
  fill($('spk-select') as HTMLSelectElement, speakers, 'speaker', localStorage.getItem(DEVICE_KEYS.spk) ?? '');
  const sinkable = typeof (document.createElement('audio') as HTMLAudioElement & { setSinkId?: unknown }).setSinkId === 'function';
  ($('spk-select') as HTMLSelectElement).disabled = !sinkable;
  ($('spk-select') as HTMLSelectElement).title = sinkable ? '' : 'this browser cannot choose the speaker: use the system sound settings';
}

/** The devices chosen on this computer before (kept in the browser), if they are still there. */
async function restoreDevices(phone: DeskPhone): Promise<void> {
  await listDevices().catch(() => {});
  const { microphones, speakers } = await phone.devices().catch(() => ({ microphones: [], speakers: [] }));
  const mic = localStorage.getItem(DEVICE_KEYS.mic);
  if (mic && microphones.some((d) => d.deviceId === mic)) await phone.setMicrophone(mic).catch(() => {});
  const spk = localStorage.getItem(DEVICE_KEYS.spk);
  if (spk && speakers.some((d) => d.deviceId === spk)) await phone.setSpeaker(spk).catch(() => {});
}

async function chooseDevice(kind: 'mic' | 'spk', id: string): Promise<void> {
  const phone = S.phone;
  if (!phone && !(kind === 'spk' && S.listening.size)) return notice('no desk phone: nothing to set');
  if (!phone) {
    // An admin listening without a desk phone: the speaker choice is still the page's.
    for (const l of S.listening.values()) await l.listener.setSpeaker(id).catch((err: Error) => notice(`speaker not changed: ${err.message}`));
    localStorage.setItem(DEVICE_KEYS.spk, id);
    return;
  }
  try {
    if (kind === 'mic') await phone.setMicrophone(id || undefined);
    else {
      await phone.setSpeaker(id);
      for (const l of S.listening.values()) await l.listener.setSpeaker(id);
    }
    localStorage.setItem(DEVICE_KEYS[kind], id);
    const sel = $(kind === 'mic' ? 'mic-select' : 'spk-select') as HTMLSelectElement;
    notice(`${kind === 'mic' ? 'microphone' : 'speaker'}: ${sel.selectedOptions[0]?.textContent ?? id}`);
  } catch (err) {
    notice(`${kind === 'mic' ? 'microphone' : 'speaker'} not changed: ${(err as Error).message}`);
    await listDevices().catch(() => {});
  }
}

$('mic-select').addEventListener('change', (e) => void chooseDevice('mic', (e.target as HTMLSelectElement).value));
$('spk-select').addEventListener('change', (e) => void chooseDevice('spk', (e.target as HTMLSelectElement).value));
// A headset plugged in or out: the lists follow.
navigator.mediaDevices?.addEventListener?.('devicechange', () => void listDevices().catch(() => {}));

(window as any).board = { S, action, sendChat, openChat, padDigit, chooseDevice, listDevices };
follow();
void load().then(takeDesk);
