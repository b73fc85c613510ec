// The fleet table: every kiosk with its state, refreshed every 2 s.
// State-changing requests from console pages send the CSRF token of the
// <meta name="csrf-token"> tag in an X-CSRF-Token header.
async function refresh() {
  const r = await fetch('/api/fleet');
  if (r.status === 401) {
    location = '/';
    return;
  }
  const list = await r.json();
  const t = document.getElementById('fleet');
  t.innerHTML = '';
  for (const k of list) {
    const tr = document.createElement('tr');
    const cells = [k.id, k.zone, k.location.text.en, k.online ? 'online' : 'offline', k.faults.map((f) => f.code).join(', ') || '—', k.configVersion ?? '—'];
    cells.forEach((c, i) => {
      const td = document.createElement('td');
      td.textContent = String(c);
      if (i === 3) td.className = k.online ? 'on' : 'off';
      tr.appendChild(td);
    });
    t.appendChild(tr);
  }
}
// A failed read (hub restarting, page being left) shows in the status line and is retried on the next tick.
const tick = () =>
  refresh().then(
    () => {
      const s = document.getElementById('fleet-status');
      if (s) s.textContent = '';
    },
    (err) => {
      const s = document.getElementById('fleet-status');
      if (s) s.textContent = `fleet not refreshed: ${err.message}`;
    },
  );
tick();
setInterval(tick, 2000);
