// HTML of the PA console and incidents pages (the script, src/hub/web/pa/,
// fills them from the API and the live feed) and the printable incident
// record. Plain HTML: it loads on any desk PC, in Chromium and Firefox.
import type { SessionInfo } from '../context.js';
import type { Incidents } from './incidents.js';

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export type IncidentReport = NonNullable<Awaited<ReturnType<Incidents['report']>>>;

function frame(title: string, site: string, s: SessionInfo, page: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} — ${esc(site)}</title><meta name="csrf-token" content="${esc(s.csrf)}">
<link rel="stylesheet" href="/static/console.css"><link rel="stylesheet" href="/static/pa/pa.css"></head>
<body data-page="${page}" data-user="${esc(s.user)}" data-role="${esc(s.role)}" data-rights="${esc(s.rights.join(' '))}">
<a class="skip" href="#main">Skip to content</a>
<header><b>Help-point control centre</b> · ${esc(site)} ·
<nav aria-label="Console"><a href="/">Fleet</a> <a href="/pa"${page === 'pa' ? ' aria-current="page"' : ''}>Public address</a> <a href="/incidents"${page === 'incidents' ? ' aria-current="page"' : ''}>Incidents and drills</a></nav>
· ${esc(s.user)} (${esc(s.role)}${s.rights.length ? `, ${esc(s.rights.join(', '))}` : ''}) ·
<form class="inline" method="post" action="/logout"><input type="hidden" name="_csrf" value="${esc(s.csrf)}"><button type="submit">log out</button></form></header>
<main id="main">${body}</main>
<div id="toast" role="alert" aria-live="assertive"></div>
<script type="module" src="/static/app/pa/console.js"></script></body></html>`;
}

const PA_BODY = `
<section aria-labelledby="h-talk" class="card">
  <h2 id="h-talk">Talk to zones</h2>
  <p id="gateway-state" class="muted" role="status"></p>
  <form id="sip-login" class="inline-form" hidden>
    <label>Your desk's SIP user <input name="user" id="sip-user" autocomplete="username" required maxlength="128"></label>
    <label>SIP password <input name="password" id="sip-password" type="password" autocomplete="current-password" required maxlength="256"></label>
    <button type="submit">Connect the microphone line</button>
    <span class="muted">Kept in this browser tab only.</span>
  </form>
  <div class="cols">
    <div>
      <fieldset><legend>Zones</legend><div id="zones" class="checks"></div></fieldset>
      <label class="check"><input type="checkbox" id="emergency"> Emergency page (pre-empts announcements and music)</label>
      <label class="check"><input type="checkbox" id="latch"> Click to start, click again to stop (instead of holding)</label>
      <label class="check"><input type="checkbox" id="processing" checked> Microphone noise suppression and automatic gain</label>
      <button id="talk" class="talk" aria-pressed="false" aria-describedby="talk-state" disabled>Hold to talk</button>
      <p id="talk-state" class="state" role="status" aria-live="assertive">Choose zones, then hold Talk.</p>
    </div>
    <div><div id="map" class="map" role="group" aria-label="Kiosks on the site map: choose a kiosk to add or remove its zone"></div></div>
  </div>
</section>
<section aria-labelledby="h-receipts" class="card">
  <h2 id="h-receipts">Receipts</h2>
  <label>Action <select id="action"></select></label>
  <p id="counts" class="counts" role="status" aria-live="polite"></p>
  <table class="receipts"><caption class="sr">Receipt of each kiosk</caption><thead><tr><th scope="col">Kiosk</th><th scope="col">State</th><th scope="col">Reason</th><th scope="col">Via</th><th scope="col">Updated</th></tr></thead><tbody id="receipts"></tbody></table>
</section>
<section aria-labelledby="h-messages" class="card">
  <h2 id="h-messages">Message library</h2>
  <p class="muted">One approved wording per situation, in Chinese and English. A draft plays only after a second user with the approval right has approved it.</p>
  <table><caption class="sr">Messages</caption><thead><tr><th scope="col">Message</th><th scope="col">Text</th><th scope="col">Level</th><th scope="col">State</th><th scope="col">Audio</th><th scope="col">Actions</th></tr></thead><tbody id="messages"></tbody></table>
  <form id="new-message" class="grid-form"><h3>New draft</h3>
    <label>Name <input name="name" required maxlength="200"></label>
    <label>English text <textarea name="en" required maxlength="2000" rows="2"></textarea></label>
    <label>Chinese text (简体中文) <textarea name="zh" required maxlength="2000" rows="2" lang="zh-CN"></textarea></label>
    <label>Incident level <select name="level"><option value="">none</option></select></label>
    <button type="submit">Save draft</button></form>
  <form id="play" class="grid-form"><h3>Play a message</h3>
    <label>Message <select name="message" required></select></label>
    <fieldset><legend>Zones</legend><div id="play-zones" class="checks"></div></fieldset>
    <label>Channel <select name="channel"><option value="announcement">information</option><option value="emergency">emergency</option></select></label>
    <label>At (empty: now) <input type="datetime-local" name="at"></label>
    <label>Repeat every (minutes, empty: once) <input type="number" name="every" min="1" max="10080"></label>
    <label>Times in all (empty with repeat: until cancelled) <input type="number" name="times" min="1" max="10000"></label>
    <label class="check"><input type="checkbox" name="drill"> Drill ("This is a drill" first)</label>
    <button type="submit">Play</button></form>
</section>
<section aria-labelledby="h-plays" class="card">
  <h2 id="h-plays">Scheduled and repeated</h2>
  <table><caption class="sr">Plays</caption><thead><tr><th scope="col">Message</th><th scope="col">Zones</th><th scope="col">Next</th><th scope="col">Repeat</th><th scope="col">By</th><th scope="col"></th></tr></thead><tbody id="plays"></tbody></table>
</section>`;

const INCIDENTS_BODY = `
<section aria-labelledby="h-declare" class="card">
  <h2 id="h-declare">Declare</h2>
  <form id="declare" class="grid-form">
    <label>Title <input name="title" required maxlength="500"></label>
    <fieldset><legend>Zones</legend><div id="declare-zones" class="checks"></div></fieldset>
    <label>Level <select name="level" required></select></label>
    <label>Kind <select name="kind"><option value="">as the level says</option><option value="incident">incident</option><option value="evacuation">evacuation</option></select></label>
    <label>Blocked exits (ids, comma separated) <input name="blocked" maxlength="500"></label>
    <label>Guidance, English <textarea name="en" maxlength="2000" rows="2"></textarea></label>
    <label>Guidance, Chinese <textarea name="zh" maxlength="2000" rows="2" lang="zh-CN"></textarea></label>
    <div class="buttons"><button type="submit" name="as" value="incident" class="danger">Declare incident</button> <button type="submit" name="as" value="drill" class="drill">Start drill</button></div>
  </form>
</section>
<section aria-labelledby="h-list" class="card">
  <h2 id="h-list">Incidents</h2>
  <div class="cols"><div><h3>Real incidents</h3><ul id="list-real" class="list"></ul></div><div><h3>Drills</h3><ul id="list-drill" class="list drills"></ul></div></div>
</section>
<section aria-labelledby="h-detail" class="card" id="detail" hidden>
  <h2 id="h-detail"></h2>
  <p id="detail-meta"></p>
  <p class="links"><a id="export-csv">Export CSV</a> · <a id="export-json">Export JSON</a> · <a id="print" target="_blank" rel="noopener">Printable record</a></p>
  <form id="update" class="inline-form"><label>Level <select name="level"></select></label> <label>Blocked exits <input name="blocked" maxlength="500"></label> <button type="submit">Update</button></form>
  <form id="note" class="inline-form"><label>Note <input name="text" required maxlength="2000"></label> <button type="submit">Add</button></form>
  <h3>Timeline</h3>
  <table><caption class="sr">Timeline</caption><thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Details</th></tr></thead><tbody id="timeline" aria-live="polite"></tbody></table>
  <form id="close" class="grid-form"><label>Summary <textarea name="summary" required maxlength="5000" rows="3"></textarea></label> <button type="submit">Close</button></form>
</section>`;

export function paPage(which: 'pa' | 'incidents', site: string, s: SessionInfo): string {
  return which === 'pa' ? frame('Public address', site, s, 'pa', PA_BODY) : frame('Incidents and drills', site, s, 'incidents', INCIDENTS_BODY);
}

const COLOURS: Record<string, string> = { blue: '#4da3ff', yellow: '#ffd200', orange: '#ff8c1a', red: '#e0002a' };

/** The incident's record for the review: everything, on paper. */
export function printableReport(site: string, r: IncidentReport, user: string): string {
  const i = r.incident;
  const drill = i.drill ? '<p class="drill-mark">DRILL — EXERCISE RECORD, NOT A REAL INCIDENT</p>' : '';
  const rows = r.timeline.map((t) => `<tr><td>${esc(t.at)}</td><td>${esc(t.by)}</td><td>${esc(t.kind)}</td><td>${esc(t.text)}</td></tr>`).join('');
  const actions = r.actions
    .map(
      (a) => `<h3>${esc(a.kind === 'live' ? 'Live page' : 'Message')} ${esc(a.id)} ${a.text ? `— ${esc(a.text.en)}` : ''}</h3>
<p>${esc(Object.entries(a.counts).filter(([k, v]) => k !== 'total' && v).map(([k, v]) => `${v} ${k}`).join(', '))} of ${a.counts.total}</p>
<table><thead><tr><th>Kiosk</th><th>State</th><th>Reason</th><th>Via</th><th>Started</th><th>Ended</th></tr></thead><tbody>${a.receipts
        .map((x) => `<tr><td>${esc(x.kiosk)}</td><td>${esc(x.state)}</td><td>${esc(x.reason ?? '')}</td><td>${esc(x.via ?? '')}</td><td>${esc(x.startedAt ?? '')}</td><td>${esc(x.endedAt ?? '')}</td></tr>`)
        .join('')}</tbody></table>`,
    )
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${i.drill ? 'DRILL ' : ''}${esc(i.id)} — ${esc(site)}</title>
<style>body{font:12pt/1.4 system-ui,sans-serif;margin:2em;color:#000}table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}td,th{border:1px solid #888;padding:.25em .5em;text-align:left;vertical-align:top}
.level{display:inline-block;padding:.1em .6em;border:1px solid #000;background:${COLOURS[i.colour ?? ''] ?? '#fff'}}.drill-mark{font-size:16pt;font-weight:700;border:3px solid #000;padding:.4em;text-align:center}
@media print{a{display:none}h3{break-after:avoid}tr{break-inside:avoid}}</style></head><body>
${drill}<h1>${i.drill ? 'Drill' : 'Incident'} record: ${esc(i.title)}</h1>
<p>${esc(site)} · ${esc(i.id)} · level <span class="level">${esc(i.levelName.en)}</span> · ${esc(i.kind)} · zones ${esc(i.zones.join(', '))}${i.blockedExits.length ? ` · exits blocked: ${esc(i.blockedExits.join(', '))}` : ''}</p>
<p>Declared by ${esc(i.declaredBy)} at ${esc(i.declaredAt)} · ${i.state === 'closed' ? `closed by ${esc(i.closedBy)} at ${esc(i.closedAt)}` : 'still open'}</p>
${i.guidance ? `<p>Guidance: ${esc(i.guidance.en)}${i.guidance['zh-CN'] ? ` / ${esc(i.guidance['zh-CN'])}` : ''}</p>` : ''}
${i.summary ? `<h2>Summary</h2><p>${esc(i.summary)}</p>` : ''}
<h2>Timeline</h2><table><thead><tr><th>When</th><th>Who</th><th>What</th><th>Details</th></tr></thead><tbody>${rows}</tbody></table>
<h2>PA actions and receipts</h2>${actions || '<p>none</p>'}
<p>Printed by ${esc(user)} at ${esc(new Date().toISOString())}.</p>${drill}</body></html>`;
}
