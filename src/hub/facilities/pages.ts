// The facilities console's pages: plain HTML shells; the bundles in
// src/hub/web/facilities/ (esbuild, served under /static/facilities/) fill them.
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function shell(title: string, user: { user: string; role: string; csrf: string }, body: string, script: string): string {
  const canEdit = user.role === 'facilities' || user.role === 'admin';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="csrf-token" content="${esc(user.csrf)}"><meta name="role" content="${esc(user.role)}">
<link rel="stylesheet" href="/static/console.css"><link rel="stylesheet" href="/static/facilities/facilities.css"></head>
<body><header><b>Help-point control centre</b> · ${esc(title)} · ${esc(user.user)} (${esc(user.role)}) ·
<nav class="inline"><a href="/">fleet table</a> · <a href="/facilities">map</a>${canEdit ? ' · <a href="/facilities/editor">config editor</a>' : ''} · <a href="/supervision">supervision</a></nav> ·
<form class="inline" method="post" action="/logout"><input type="hidden" name="_csrf" value="${esc(user.csrf)}"><button type="submit">log out</button></form></header>
<main>${body}</main><script type="module" src="/static/facilities/${script}.js"></script></body></html>`;
}

export function fleetMapPage(site: string, user: { user: string; role: string; csrf: string }): string {
  const canEdit = user.role === 'facilities' || user.role === 'admin';
  return shell(
    `${site} — facilities`,
    user,
    `<section id="map-view"><h2>Fleet map <small id="live" class="off">connecting…</small></h2>
<label>Zone <select id="zone"><option value="">all zones</option></select></label>
<span class="legend"><i class="st-online"></i>online <i class="st-fault"></i>fault <i class="st-offline"></i>offline <i class="st-alarm"></i>alarm</span>
<div id="map"></div></section>
<section id="list-view"><h2>Kiosks</h2><table id="fleet"><thead><tr>
<th data-key="id">Kiosk</th><th data-key="zone">Zone</th><th data-key="location">Location</th><th data-key="state">State</th><th data-key="firmware">Firmware</th>
<th data-key="configVersion">Config</th><th data-key="uptimeS">Uptime</th><th data-key="faults">Faults</th><th data-key="lastTestCall">Last test call</th><th data-key="lastAlarm">Last alarm</th>${canEdit ? '<th></th>' : ''}
</tr></thead><tbody></tbody></table></section>
<section id="rollouts-view"><h2>Rollouts</h2><div id="rollouts"></div></section>
${
  canEdit
    ? `<section id="enrol-view"><h2>Enrol a kiosk</h2><form id="enrol">
<label>Id <input name="id" required pattern="[a-z0-9][a-z0-9_-]{0,62}"></label>
<label>Zone <select name="zone" required></select></label>
<label>Location <input name="text" required placeholder="Concourse, east stairs"></label>
<label>x <input name="x" type="number" step="any" required></label><label>y <input name="y" type="number" step="any" required></label>
<label>Floor <input name="floor"></label>
<label>Base config <input name="baseConfig" list="bases" placeholder="kiosks/new.json"><datalist id="bases"></datalist></label>
<button type="submit">Enrol</button></form><div id="token" class="token" hidden></div></section>`
    : ''
}`,
    'console',
  );
}

export function editorPage(site: string, user: { user: string; role: string; csrf: string }): string {
  return shell(
    `${site} — config editor`,
    user,
    `<section id="layer-pick"><h2>Config layer</h2>
<label>Layer <select id="scope"><option value="defaults">defaults</option><option value="site">site</option><option value="zone" selected>zone</option><option value="kiosk">kiosk</option></select></label>
<label>Target <select id="target"></select></label>
<span id="layer-info"></span>
<details id="history"><summary>Versions of this layer</summary><table><thead><tr><th>Version</th><th>State</th><th>Author</th><th>Time</th><th>Comment</th><th></th></tr></thead><tbody></tbody></table></details>
</section>
<div class="columns">
<section id="editor-view"><h2>Layer document</h2>
<p class="hint">Only what this layer sets; everything else comes from the layers below. Use "Properties" on a group to add a setting. Every setting shows its description.</p>
<div id="editor"></div>
<label>Comment <input id="comment" maxlength="500" placeholder="why this change"></label>
<button id="check" type="button">Check and show the diff</button>
<div id="errors" class="errors" hidden></div>
</section>
<section id="effective-view"><h2>Effective config</h2>
<label>Kiosk <select id="effective-kiosk"></select></label>
<table id="effective"><thead><tr><th>Setting</th><th>Value</th><th>From</th></tr></thead><tbody></tbody></table>
</section>
</div>
<section id="diff-view" hidden><h2>Diff against what the kiosks run</h2><div id="diff"></div>
<fieldset><legend>Rollout</legend>
<label><input type="radio" name="stage" value="percent" checked> canary: <input id="percent" type="number" min="1" max="100" value="10">% of the online kiosks first</label>
<label><input type="radio" name="stage" value="chosen"> canary kiosks: <input id="chosen" placeholder="plat-1, plat-2"></label>
<label><input type="radio" name="stage" value="all"> all at once (no canary stage)</label>
</fieldset>
<button id="push" type="button">Push</button></section>
<section id="rollout-view" hidden><h2>Rollout</h2><div id="rollout"></div></section>`,
    'editor',
  );
}
