// The desk page's HTML: a shell the board script (src/hub/web/desk/board.ts,
// bundled to /desk/board.js) fills from /api/desk/board and the live stream.
import type { SessionInfo } from '../context.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function deskPage(siteName: string, s: SessionInfo): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(siteName)} — dispatch desk</title>
<meta name="csrf-token" content="${esc(s.csrf)}"><link rel="stylesheet" href="/static/console.css">
<style>
#board tr.emergency td:first-child{border-left:4px solid #c00}
#board tr.taken{opacity:.7}
#board button{margin:0 2px}
#chat{border:1px solid #999;padding:6px;margin-top:10px;max-width:48em}
#chat-log{list-style:none;padding:0;max-height:14em;overflow:auto}
#chat-log li.caller{color:#036}
#chat-log li.desk{color:#060}
#status{font-size:.9em}
#minimap{max-width:28em;border:1px solid #ccc;margin-top:8px}
#minimap svg{width:100%;height:auto;display:block}
#minimap g.kiosk circle{fill:#c00;stroke:#fff;stroke-width:.6}
#minimap g.kiosk.information circle{fill:#06c}
#minimap g.kiosk.taken circle{fill:#888}
#pad{border:1px solid #999;padding:6px;margin-top:10px;display:inline-block}
#pad button{width:3em;height:2.4em;margin:2px}
</style></head>
<body><header><b>Help-point control centre</b> · ${esc(siteName)} · dispatch desk · ${esc(s.user)} (${esc(s.role)}) · <span id="status">connecting…</span> ·
<form class="inline" method="post" action="/logout"><input type="hidden" name="_csrf" value="${esc(s.csrf)}"><button type="submit">log out</button></form></header>
<main>
<p id="notice" role="status" aria-live="polite"></p>
<p id="devices" hidden><label>Microphone <select id="mic-select"></select></label> · <label>Speaker <select id="spk-select"></select></label></p>
<h2>Open alarms</h2>
<table><thead><tr><th>Kind</th><th>Kiosk</th><th>Zone</th><th>Location</th><th>Category</th><th>Language</th><th>State</th><th>Waiting</th><th>Attempt</th><th>Ringing / with</th><th>Desk</th><th>Actions</th></tr></thead>
<tbody id="board"></tbody></table>
<p id="empty">No open alarm.</p>
<div id="minimap" title="open alarms on the site map"></div>
<section id="pad" hidden><h3>Keypad: <span id="pad-kiosk"></span></h3>
${['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'].map((d, i) => `<button type="button" data-digit="${d}">${d}</button>${i % 3 === 2 ? '<br>' : ''}`).join('')}</section>
<section id="chat" hidden><h3>Chat with <span id="chat-kiosk"></span> <small id="chat-lang"></small></h3>
<ul id="chat-log"></ul><div id="quick"></div>
<form id="eta-form">ETA <input id="eta-min" type="number" min="0" max="600" style="width:4em" aria-label="minutes until help arrives"> min · responder <input id="eta-responder" maxlength="200" aria-label="who is coming"><button type="submit">Send to screen</button></form>
<form id="chat-form"><input id="chat-input" maxlength="500" autocomplete="off" aria-label="message to the caller"><button type="submit">Send</button></form></section>
</main>
<script type="module" src="/desk/board.js"></script></body></html>`;
}
