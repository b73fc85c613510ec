// The supervision report page (/supervision): faults as the hub sees them and
// each kiosk's last test call, refreshed every 5 s; availability per day on demand.
// State-changing requests send the CSRF token of <meta name="csrf-token">.
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const role = document.querySelector('meta[name="role"]').content;

function cell(tr, text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

async function json(url) {
  const r = await fetch(url, { headers: { accept: 'application/json' } });
  if (r.status === 401) {
    location = '/';
    throw new Error('logged out');
  }
  return r.json();
}

async function refresh() {
  const [faults, kiosks] = await Promise.all([json('/api/supervision/faults'), json('/api/supervision/kiosks')]);
  const f = document.getElementById('faults');
  f.replaceChildren();
  for (const x of faults) {
    const tr = document.createElement('tr');
    tr.dataset.kiosk = x.kiosk;
    tr.dataset.code = x.code;
    cell(tr, x.kiosk);
    cell(tr, x.zone);
    cell(tr, x.code, 'off');
    cell(tr, x.detail);
    cell(tr, x.source === 'hub' ? 'hub' : 'kiosk');
    f.appendChild(tr);
  }
  if (faults.length === 0) cell(f.appendChild(document.createElement('tr')), 'no open fault');
  document.getElementById('faults-at').textContent = `as of ${new Date().toLocaleTimeString()}`;
  const t = document.getElementById('tests');
  t.replaceChildren();
  for (const k of kiosks) {
    const tr = document.createElement('tr');
    tr.dataset.kiosk = k.kiosk;
    const last = k.lastTest;
    cell(tr, k.kiosk);
    cell(tr, k.zone);
    cell(tr, last ? `${new Date(last.at).toLocaleString()} (${last.trigger})` : '—');
    cell(tr, last ? (last.passed ? 'passed' : `failed: ${last.failedStep ?? '?'}`) : '—', last ? (last.passed ? 'on' : 'off') : '');
    cell(tr, last ? last.steps.map((s) => `${s.ok ? '✓' : '✗'} ${s.step}`).join('  ') : '');
    const a = last?.answerer;
    cell(tr, a ? `${a.toneHeard ? `tone in ${a.toneMs} ms` : 'no tone'}, ${a.dtmfReceived ? 'DTMF 1' : 'no DTMF'}` : '—');
    cell(tr, k.overdue ? `since ${new Date(k.overdue.raisedAt).toLocaleString()}` : '—', k.overdue ? 'off' : '');
    const td = cell(tr, '');
    if (['dispatcher', 'facilities', 'admin'].includes(role)) {
      const b = document.createElement('button');
      b.textContent = 'Test now';
      b.onclick = async () => {
        b.disabled = true;
        b.textContent = 'testing…';
        const r = await fetch(`/api/supervision/kiosks/${encodeURIComponent(k.kiosk)}/test`, { method: 'POST', headers: { 'x-csrf-token': csrf } });
        const body = await r.json().catch(() => ({}));
        b.textContent = body.ok ? 'passed' : body.pending ? 'still running' : `failed: ${body.error ?? r.status}`;
        setTimeout(refresh, 500);
      };
      td.appendChild(b);
    }
    t.appendChild(tr);
  }
}

async function availability(ev) {
  ev?.preventDefault();
  const form = new FormData(document.getElementById('avail'));
  const q = new URLSearchParams();
  for (const k of ['from', 'to', 'zone']) if (form.get(k)) q.set(k, form.get(k));
  document.getElementById('csv').href = `/api/supervision/availability?${q}&format=csv`;
  const r = await json(`/api/supervision/availability?${q}`);
  const t = document.getElementById('availability');
  t.replaceChildren();
  const pct = (s) => (s === null ? '—' : `${(s * 100).toFixed(2)} %`);
  const hms = (s) => `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  for (const z of r.zones) {
    const tr = document.createElement('tr');
    cell(tr, z.day);
    cell(tr, z.zone);
    cell(tr, 'all kiosks');
    cell(tr, `${hms(z.availableS)} of ${hms(z.measuredS)}`);
    cell(tr, pct(z.share));
    tr.style.fontWeight = 'bold';
    t.appendChild(tr);
    for (const k of r.kiosks.filter((x) => x.day === z.day && x.zone === z.zone)) {
      const kr = document.createElement('tr');
      cell(kr, '');
      cell(kr, '');
      cell(kr, k.kiosk);
      cell(kr, `${hms(k.availableS)} of ${hms(k.measuredS)}`);
      cell(kr, pct(k.share), k.share !== null && k.share < 0.99 ? 'off' : '');
      t.appendChild(kr);
    }
  }
}

document.getElementById('avail').addEventListener('submit', availability);
refresh();
availability();
setInterval(refresh, 5000);
