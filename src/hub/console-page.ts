// Console pages served by the hub. Plain HTML with no framework: it must load
// on any desk PC. Styles and scripts are static files in src/hub/web/ (served
// under /static/), where the consoles of later issues add their pages.
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const head = (title: string, csrf: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><meta name="csrf-token" content="${esc(csrf)}"><link rel="stylesheet" href="/static/console.css"></head>`;

export function loginPage(siteName: string, csrf: string, error?: string): string {
  return `${head(`${siteName} — log in`, csrf)}
<body><header><b>Help-point control centre</b> · ${esc(siteName)}</header><main>
<form method="post" action="/login"><h2>Log in</h2>${error ? `<p class="off">${esc(error)}</p>` : ''}
<input type="hidden" name="_csrf" value="${esc(csrf)}">
<label>User<input name="user" autocomplete="username" required maxlength="128"></label>
<label>Password<input name="password" type="password" autocomplete="current-password" required maxlength="1024"></label>
<button type="submit">Log in</button></form></main></body></html>`;
}

export function fleetPage(siteName: string, user: { user: string; role: string; csrf: string }): string {
  return `${head(`${siteName} — fleet`, user.csrf)}
<body><header><b>Help-point control centre</b> · ${esc(siteName)} · ${esc(user.user)} (${esc(user.role)}) ·
<form class="inline" method="post" action="/logout"><input type="hidden" name="_csrf" value="${esc(user.csrf)}"><button type="submit">log out</button></form></header>
<main><h2>Kiosks</h2><table><thead><tr><th>Kiosk</th><th>Zone</th><th>Location</th><th>State</th><th>Faults</th><th>Config</th></tr></thead><tbody id="fleet"></tbody></table><p id="fleet-status" role="status"></p></main>
<script src="/static/fleet.js"></script></body></html>`;
}
