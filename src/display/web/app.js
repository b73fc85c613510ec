// The kiosk screen. Holds no truth of its own: it renders the snapshot the
// kiosk pushes over /screen/ws and sends intents back. Every visible string
// comes from the translation files (i18n/*.json) or from config text per language.
'use strict';
const $ = (id) => document.getElementById(id);
const S = { lang: null, dict: {}, snap: null, map: null, view: 'home', route: null, routeTo: null, ws: null, rated: false };
const CATS = ['medical', 'security', 'lost-property', 'enquiry', 'accessibility'];
const WAYCATS = ['exit', 'toilet', 'lift', 'platform', 'service-desk', 'first-aid', 'car-park'];

function t(key, vars) {
  let s = (S.dict[S.lang] || {})[key];
  if (s === undefined) s = (S.dict.en || {})[key] ?? '';
  for (const [k, v] of Object.entries(vars || {})) s = s.replace('{' + k + '}', String(v));
  return s;
}
const lt = (text) => (text ? text[S.lang] || text.en : '');
const el = (tag, props, kids) => { const e = document.createElement(tag); Object.assign(e, props || {}); for (const k of kids || []) e.append(k); return e; };

async function boot() {
  const [en, zh, map] = await Promise.all(['/screen/i18n/en.json', '/screen/i18n/zh-CN.json', '/screen/map'].map((u) => fetch(u).then((r) => r.json())));
  S.dict = { en, 'zh-CN': zh };
  S.map = map;
  wire();
  connect();
  setInterval(tick, 1000);
  tick();
}

function connect() {
  const ws = new WebSocket(`ws://${location.host}/screen/ws`);
  S.ws = ws;
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type === 'state') {
      if (!S.snap) heartbeat();
      followConfig(msg.state);
      if (S.toldLang !== S.lang) tellLang();
      S.snap = msg.state; S.skew = Date.now() - msg.state.now; render();
    }
    else if (msg.type === 'reload') location.reload(); // a new map from the config
    else if (msg.type === 'route') { S.route = msg.route; S.routeTo = msg.to; S.routeStepFree = msg.stepFree; renderWay(); }
    else if (msg.type === 'error') { /* never show raw errors */ }
  };
  ws.onclose = () => { S.toldLang = null; setTimeout(connect, 1000); };
}
// The heartbeat: sent by this page's own timer, so a page whose script hangs falls silent
// (the kiosk raises the screen fault; the kiosk browser unit restarts the page).
function heartbeat() { send({ type: 'heartbeat' }); }
setInterval(heartbeat, 5000);
// The language starts at the configured default and follows a new default
// pushed by facilities; a visitor's own choice holds until then.
function followConfig(state) {
  if (state.defaultLanguage !== S.defaultLang) { S.defaultLang = state.defaultLanguage; S.lang = state.defaultLanguage; }
  else if (!state.languages.includes(S.lang)) S.lang = state.defaultLanguage;
}
const send = (m) => { if (S.ws && S.ws.readyState === 1) S.ws.send(JSON.stringify(m)); };
// The desk chats in the visitor's language: the kiosk is told which one the screen shows.
function tellLang() { S.toldLang = S.lang; send({ type: 'language', lang: S.lang }); }

function wire() {
  $('btn-emergency').onclick = () => send({ type: 'call', kind: 'emergency' });
  $('btn-emergency-small').onclick = () => send({ type: 'call', kind: 'emergency' });
  $('btn-information').onclick = () => go('categories');
  $('btn-way').onclick = () => go('way');
  for (const b of document.querySelectorAll('[data-go]')) b.onclick = () => go(b.dataset.go);
  for (const c of CATS) {
    const b = el('button', { id: 'cat-' + c });
    b.dataset.i18n = 'cat.' + c;
    b.onclick = () => { send({ type: 'call', kind: 'information', category: c }); go('home'); };
    $('cat-list').append(b);
  }
  for (const c of WAYCATS) {
    if (!(S.map.data?.destinations || []).some((d) => d.category === c)) continue;
    const b = el('button', { id: 'waycat-' + c });
    b.dataset.i18n = 'cat.' + c;
    b.onclick = () => { S.filterCat = c; $('way-search').value = ''; renderWay(); };
    $('way-cats').append(b);
  }
  for (let n = 1; n <= 5; n++) {
    const b = el('button', { id: 'rate-' + n, textContent: '★ ' + n });
    b.onclick = () => { send({ type: 'rating', rating: n }); S.rated = true; };
    $('rate-stars').append(b);
  }
  $('lang').onclick = () => { S.lang = S.lang === 'en' ? 'zh-CN' : 'en'; tellLang(); render(); };
  $('a11y-contrast').onclick = () => toggle('contrast', $('a11y-contrast'));
  $('a11y-large').onclick = () => toggle('large', $('a11y-large'));
  $('call-answer').onclick = () => send({ type: 'answer' });
  $('chat-form').onsubmit = (e) => { e.preventDefault(); const v = $('chat-input').value.trim(); if (v) send({ type: 'chat', text: v, lang: S.lang }); $('chat-input').value = ''; };
  $('way-search').oninput = () => { S.filterCat = null; renderWay(); };
  $('way-stepfree').onchange = () => { if (S.routeTo) send({ type: 'route', to: S.routeTo, stepFree: $('way-stepfree').checked }); };
}
function toggle(cls, btn) { const on = document.body.classList.toggle(cls); btn.setAttribute('aria-pressed', String(on)); }
function go(view) { S.view = view; render(); }

function activeCall() {
  const c = S.snap?.call;
  return c && !(c.state === 'ended' && S.rated) ? c : null;
}

function render() {
  if (!S.snap) return;
  const s = S.snap;
  document.documentElement.lang = S.lang;
  document.title = t('home.emergency') + ' · ' + lt(s.site);
  for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  $('lang').textContent = t('lang.switch');
  $('lang').setAttribute('aria-label', t('lang.switchLabel'));
  $('chat-input').placeholder = t('chat.placeholder');
  $('chat-input').setAttribute('aria-label', t('chat.placeholder'));
  $('way-search').placeholder = t('way.search');
  $('way-search').setAttribute('aria-label', t('way.search'));
  $('site').textContent = lt(s.site);
  $('zone').textContent = lt(s.zone) + (s.location ? ' · ' + lt(s.location) : '');
  $('crowd').hidden = s.crowd === 'none';
  $('crowd').className = 'crowd ' + s.crowd;
  $('crowd').textContent = s.crowd === 'none' ? '' : t('crowd.' + s.crowd);
  $('drill').hidden = !s.drill;
  $('drill').textContent = t('drill.banner');
  const pa = s.announcement;
  $('pa').hidden = !pa;
  $('pa').dataset.id = pa ? pa.id : '';
  $('pa-label').textContent = pa ? t(pa.channel === 'emergency' ? 'pa.emergency' : 'pa.label') : '';
  $('pa-text').textContent = pa ? (pa.text ? lt(pa.text) : t('pa.live')) : '';
  const degraded = s.degraded.hub || s.degraded.sip || s.degraded.faults > 0;
  $('degraded').hidden = !degraded;
  $('degraded').textContent = s.degradedText ? lt(s.degradedText) : t('degraded.default');
  $('picto-yellow').setAttribute('aria-label', t('call.alarmSent'));
  $('picto-green').setAttribute('aria-label', t('call.voiceConnected'));
  $('map').setAttribute('aria-label', t('a11y.map'));
  $('evac-map').setAttribute('aria-label', t('a11y.map'));
  if (s.call && s.call.state !== 'ended') S.rated = false;

  let view = S.view;
  if (s.incident) view = 'incident';
  else if (s.alarm || activeCall()) view = 'call';
  else if (view === 'call' || view === 'incident') view = S.view = 'home';
  for (const sec of document.querySelectorAll('main > .screen')) sec.hidden = sec.id !== view;
  document.body.dataset.view = view;
  if (view === 'call') renderCall();
  if (view === 'way') renderWay();
  if (view === 'incident') renderIncident();
}

function renderCall() {
  const s = S.snap;
  const a = s.alarm;
  const c = activeCall();
  $('call-answer').hidden = !(c && c.incoming && c.state === 'ringing');
  if (a) {
    // An open alarm: the screen follows the alarm, not its individual calls (re-sends, call-backs).
    $('call-title').textContent = t('call.title.emergency');
    $('call-state').textContent = t('alarm.state.' + a.state);
    $('call-state').dataset.state = a.state;
    $('call-state').dataset.alarm = a.alarmId;
    $('picto-yellow').classList.toggle('on', true);
    $('picto-green').classList.toggle('on', a.state === 'talking' || (!!c && c.state === 'connected'));
  } else {
    delete $('call-state').dataset.alarm;
    $('call-title').textContent = t('call.title.' + c.kind);
    $('call-state').textContent = t('call.state.' + c.state);
    $('call-state').dataset.state = c.state;
    const live = c.state !== 'ended' && c.state !== 'failed';
    $('picto-yellow').classList.toggle('on', live);
    $('picto-green').classList.toggle('on', c.state === 'connected');
  }
  $('desk').hidden = !s.desk;
  if (s.desk) {
    $('desk-eta').textContent = s.desk.etaMin != null ? t('desk.eta', { min: s.desk.etaMin }) : '';
    $('desk-responder').textContent = s.desk.responder ? t('desk.responder', { name: s.desk.responder }) : '';
  }
  $('chat-log').replaceChildren(...s.chat.map((m) => el('li', { className: m.from, textContent: (m.from === 'desk' ? t('chat.desk') : t('chat.me')) + ': ' + m.text })));
  $('rate').hidden = !!a || !(c && c.state === 'ended' && s.rateCallId && !S.rated);
  tick();
}

function tick() {
  const now = new Date();
  $('clock').textContent = now.toLocaleTimeString(S.lang === 'en' ? 'en-GB' : 'zh-CN', { hour: '2-digit', minute: '2-digit' });
  const a = S.snap?.alarm;
  const c = activeCall();
  const from = a ? a.raisedAt : c && c.state !== 'ended' && c.state !== 'failed' ? c.startedAt : null;
  if (from != null) {
    const sec = Math.max(0, Math.floor((Date.now() - (S.skew || 0) - from) / 1000));
    $('call-elapsed').textContent = Math.floor(sec / 60) + ':' + String(sec % 60).padStart(2, '0');
  }
}

function destName(id) { const d = (S.map.data?.destinations || []).find((x) => x.id === id); return d ? lt(d.name) : id; }

function renderWay() {
  const dests = S.map.data?.destinations || [];
  const q = $('way-search').value.trim().toLowerCase();
  const hits = dests.filter((d) => (S.filterCat ? d.category === S.filterCat :
    q && (d.name.en.toLowerCase().includes(q) || d.name['zh-CN'].includes(q) || t('cat.' + d.category).toLowerCase().includes(q))));
  $('way-results').replaceChildren(...hits.map((d) => {
    const b = el('button', { textContent: lt(d.name) });
    b.dataset.dest = d.id;
    b.onclick = () => send({ type: 'route', to: d.id, stepFree: $('way-stepfree').checked });
    return el('li', {}, [b]);
  }));
  drawMap($('map'), S.route);
  renderSteps($('way-steps'), S.route, S.routeTo, S.routeStepFree);
  $('way-total').textContent = S.route ? t('way.total', { dist: S.route.metres }) : '';
}

function renderSteps(ol, route, to, stepFree) {
  if (!to) return ol.replaceChildren();
  if (!route) return ol.replaceChildren(el('li', { textContent: t(stepFree ? 'way.noneStepFree' : 'way.none') }));
  const items = route.steps.map((st) => {
    const li = el('li', { textContent: t(st.stairs ? 'way.stepStairs' : 'way.step', { dist: st.metres, via: st.via ? lt(st.via) : '' }) });
    if (st.stairs) li.className = 'stairs';
    return li;
  });
  items.push(el('li', { textContent: t('way.arrive', { name: destName(to) }) }));
  ol.replaceChildren(...items);
}

function drawMap(box, route) {
  const m = S.map;
  const w = m.size?.width || 200, h = m.size?.height || 120;
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  svg.setAttribute('aria-hidden', 'true');
  if (m.floorplan) { const g = document.createElementNS(NS, 'g'); g.setAttribute('class', 'floorplan'); g.innerHTML = m.floorplan.replace(/<\?xml[^>]*>/, ''); svg.append(g); }
  const pos = Object.fromEntries((m.data?.nodes || []).map((n) => [n.id, n]));
  for (const e of m.data?.edges || []) {
    const l = document.createElementNS(NS, 'line');
    const a = pos[e.from], b = pos[e.to];
    Object.entries({ x1: a.x, y1: a.y, x2: b.x, y2: b.y, stroke: e.stairs ? '#b07d00' : '#9aa7b8', 'stroke-width': 1.2, 'stroke-dasharray': e.stairs ? '2 1.5' : '' }).forEach(([k, v]) => l.setAttribute(k, v));
    svg.append(l);
  }
  if (route) {
    const p = document.createElementNS(NS, 'polyline');
    p.setAttribute('points', route.points.map((x) => x.join(',')).join(' '));
    Object.entries({ fill: 'none', stroke: '#00a651', 'stroke-width': 4, 'stroke-linecap': 'round', 'stroke-linejoin': 'round', class: 'route' }).forEach(([k, v]) => p.setAttribute(k, v));
    svg.append(p);
    const end = route.points[route.points.length - 1];
    const c = document.createElementNS(NS, 'circle');
    Object.entries({ cx: end[0], cy: end[1], r: 4.5, fill: '#00a651', stroke: '#000', 'stroke-width': 1 }).forEach(([k, v]) => c.setAttribute(k, v));
    svg.append(c);
  }
  const here = pos[m.here];
  if (here) {
    const c = document.createElementNS(NS, 'circle');
    Object.entries({ cx: here.x, cy: here.y, r: 4.5, fill: '#c8102e', stroke: '#fff', 'stroke-width': 1.5 }).forEach(([k, v]) => c.setAttribute(k, v));
    svg.append(c);
    const tx = document.createElementNS(NS, 'text');
    // Label drawn with a white halo so it stays readable over floor-plan art.
    Object.entries({ x: here.x + 6, y: here.y + 12, 'font-size': 7, 'font-weight': 700, fill: '#c8102e', stroke: '#fff', 'stroke-width': 2, 'paint-order': 'stroke' }).forEach(([k, v]) => tx.setAttribute(k, v));
    tx.textContent = t('home.here');
    svg.append(tx);
  }
  box.replaceChildren(svg);
}

function renderIncident() {
  const inc = S.snap.incident;
  $('incident-title').textContent = t('incident.' + inc.kind);
  $('incident').dataset.colour = inc.colour || '';
  $('incident-level').hidden = !inc.level && !inc.colour;
  $('incident-level').textContent = inc.level ? lt(inc.level) : inc.colour ? t('incident.colour.' + inc.colour) : '';
  $('incident-text').textContent = inc.text ? lt(inc.text) : '';
  const to = inc.route ? S.map.data.destinations.find((d) => d.node === inc.route.nodes[inc.route.nodes.length - 1] && d.category === 'exit') : null;
  $('incident-follow').textContent = to ? t('incident.follow', { name: lt(to.name) }) : t('incident.noRoute');
  $('incident-follow').dataset.exit = to ? to.id : '';
  drawMap($('evac-map'), inc.route);
  renderSteps($('evac-steps'), inc.route, to?.id, false);
}

boot();
