// Console pages served by the hub. Plain HTML with no framework: it must load
// on any desk PC. Later issues extend the console (calls, PA, config).
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE = `body{font:15px system-ui;margin:0;background:#f4f5f7;color:#111}header{background:#1d2a3a;color:#fff;padding:.8em 1.2em}
main{padding:1.2em}table{border-collapse:collapse;background:#fff}td,th{padding:.4em .8em;border-bottom:1px solid #ddd;text-align:left}
.on{color:#080;font-weight:600}.off{color:#b00;font-weight:600}form{background:#fff;padding:1.5em;max-width:22em}
input{display:block;margin:.3em 0 1em;padding:.5em;width:100%;font-size:1em}button{padding:.6em 1.2em;font-size:1em}`;

export function loginPage(siteName: string, error?: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(siteName)} — log in</title><style>${STYLE}</style></head>
<body><header><b>Help-point control centre</b> · ${esc(siteName)}</header><main>
<form method="post" action="/login"><h2>Log in</h2>${error ? `<p class="off">${esc(error)}</p>` : ''}
<label>User<input name="user" autocomplete="username" required></label>
<label>Password<input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Log in</button></form></main></body></html>`;
}

export function fleetPage(siteName: string, user: { user: string; role: string }): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(siteName)} — fleet</title><style>${STYLE}</style></head>
<body><header><b>Help-point control centre</b> · ${esc(siteName)} · ${esc(user.user)} (${esc(user.role)}) · <a style="color:#fff" href="/logout">log out</a></header>
<main><h2>Kiosks</h2><table><thead><tr><th>Kiosk</th><th>Zone</th><th>Location</th><th>State</th><th>Faults</th><th>Config</th></tr></thead><tbody id="fleet"></tbody></table></main>
<script>
async function refresh(){const r=await fetch('/api/fleet');if(r.status===401){location='/';return;}const list=await r.json();
const t=document.getElementById('fleet');t.innerHTML='';for(const k of list){const tr=document.createElement('tr');
const cells=[k.id,k.zone,k.location.text.en,k.online?'online':'offline',k.faults.map(f=>f.code).join(', ')||'—',k.configVersion??'—'];
cells.forEach((c,i)=>{const td=document.createElement('td');td.textContent=String(c);if(i===3)td.className=k.online?'on':'off';tr.appendChild(td);});t.appendChild(tr);}}
refresh();setInterval(refresh,2000);
</script></body></html>`;
}
