// The layer editor: a form generated from the published kiosk schema by
// @json-editor/json-editor (every setting with its description), on the layer
// schema (a partial config). "Check" asks the hub to validate the layer for
// every kiosk under it with the rules of `helppoint config validate` (errors
// shown at their path in the form) and to show the diff against what the
// kiosks run; "Push" starts a staged rollout, followed live.
import { JSONEditor, type JsonEditorError } from '@json-editor/json-editor';
import { ApiError, el, get, post, rolloutBlock, type Rollout } from './api.js';

type Scope = 'defaults' | 'site' | 'zone' | 'kiosk';
interface Fleet {
  site: { zones: { id: string }[] };
  kiosks: { id: string; zone: string }[];
}
interface LayerVersion { scope: string; target: string; version: number; state: string; author: string; comment: string; createdAt: string; current: boolean }
interface Preview {
  kiosks: string[];
  errors: { path: string; message: string; kiosks: string[] }[];
  layerDiff: { path: string; before?: unknown; after?: unknown }[];
  changes: { path: string; before?: unknown; after?: unknown; kiosks: string[] }[];
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const scopeSel = $<HTMLSelectElement>('scope');
const targetSel = $<HTMLSelectElement>('target');
let fleet: Fleet;
let editor: JSONEditor | undefined;
let layerSchema: Record<string, unknown>;
let checked: string | undefined; // the document the diff was shown for

const scope = () => scopeSel.value as Scope;
const target = () => (scope() === 'defaults' || scope() === 'site' ? '-' : targetSel.value);
const show = (v: unknown) => (v === undefined ? '—' : JSON.stringify(v));

/** JSON pointer -> the form's path ("/sip/targets/0/x" -> "root.sip.targets.0.x"). */
const formPath = (p: string) => (p ? `root.${p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).join('.')}` : 'root');

function targets(): void {
  const s = scope();
  const opts = s === 'zone' ? fleet.site.zones.map((z) => z.id) : s === 'kiosk' ? fleet.kiosks.map((k) => k.id) : ['-'];
  const keep = targetSel.value;
  targetSel.replaceChildren(...opts.map((o) => el('option', { value: o }, o === '-' ? '(the one layer)' : o)));
  if (opts.includes(keep)) targetSel.value = keep;
  targetSel.disabled = s === 'defaults' || s === 'site';
}

async function loadLayer(): Promise<void> {
  const l = await get<{ version: number; document: unknown; author: string; createdAt: string; comment: string }>(`/api/facilities/layers/${scope()}/${encodeURIComponent(target())}`);
  $('layer-info').textContent = l.version ? `current version ${l.version} by ${l.author}, ${new Date(l.createdAt).toLocaleString()}${l.comment ? ` — “${l.comment}”` : ''}` : 'no version yet: this layer sets nothing';
  editor?.destroy();
  editor = new JSONEditor($('editor'), {
    schema: layerSchema,
    startval: l.document,
    theme: 'html',
    iconlib: null,
    display_required_only: true,
    remove_empty_properties: true,
    use_default_values: false,
    disable_edit_json: false,
    disable_properties: false,
    disable_collapse: false,
    prompt_before_delete: false,
    show_errors: 'always',
    no_additional_properties: true,
  });
  (window as unknown as { layerEditor: JSONEditor }).layerEditor = editor;
  editor.on('change', () => {
    if (checked !== undefined && JSON.stringify(editor!.getValue()) !== checked) $('diff-view').hidden = true; // a diff is for the document it was made from
  });
  await history();
  await effective();
}

async function history(): Promise<void> {
  const list = await get<LayerVersion[]>(`/api/facilities/layers?scope=${scope()}&target=${encodeURIComponent(target())}`);
  const body = document.querySelector('#history tbody')!;
  body.replaceChildren(
    ...list.map((v) => {
      const b = el('button', { type: 'button', 'data-rollback': String(v.version) }, `roll back to ${v.version}`);
      b.disabled = v.current || v.state === 'staged';
      b.addEventListener('click', () => void rollback(v.version));
      return el('tr', { 'data-version': String(v.version) }, el('td', {}, String(v.version)), el('td', {}, v.current ? `${v.state} (current)` : v.state), el('td', {}, v.author), el('td', {}, new Date(v.createdAt).toLocaleString()), el('td', {}, v.comment), el('td', {}, b));
    }),
  );
}

async function effective(): Promise<void> {
  const sel = $<HTMLSelectElement>('effective-kiosk');
  const under = scope() === 'zone' ? fleet.kiosks.filter((k) => k.zone === target()) : scope() === 'kiosk' ? fleet.kiosks.filter((k) => k.id === target()) : fleet.kiosks;
  const keep = sel.value;
  sel.replaceChildren(...under.map((k) => el('option', { value: k.id }, k.id)));
  if (under.some((k) => k.id === keep)) sel.value = keep;
  const body = document.querySelector('#effective tbody')!;
  if (!sel.value) return void body.replaceChildren();
  const e = await get<{ sources: Record<string, string>; document: unknown }>(`/api/facilities/kiosks/${encodeURIComponent(sel.value)}/effective`);
  const flat: [string, unknown][] = [];
  const walk = (v: unknown, p: string) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length) for (const [k, x] of Object.entries(v)) walk(x, `${p}/${k}`);
    else if (Array.isArray(v) && v.length) v.forEach((x, i) => walk(x, `${p}/${i}`));
    else flat.push([p, v]);
  };
  walk(e.document, '');
  body.replaceChildren(...flat.map(([p, v]) => el('tr', { 'data-path': p }, el('td', {}, p), el('td', {}, show(v)), el('td', { class: `src src-${(e.sources[p] ?? 'default').split(/[:@]/)[0]}` }, e.sources[p] ?? 'default'))));
}

function showErrors(errors: { path: string; message: string; kiosks?: string[] }[]): void {
  const box = $('errors');
  box.hidden = errors.length === 0;
  box.replaceChildren(el('b', {}, 'Refused: nothing was saved or pushed.'), ...errors.map((e) => el('div', { class: 'error', 'data-path': e.path }, `${e.path || '/'}: ${e.message}${e.kiosks?.length ? ` (kiosks: ${e.kiosks.slice(0, 5).join(', ')}${e.kiosks.length > 5 ? ', …' : ''})` : ''}`)));
  // The same errors at their place in the form.
  editor?.showValidationErrors(errors.map((e): JsonEditorError => ({ path: formPath(e.path), property: 'hub', message: e.message })));
}

async function check(): Promise<void> {
  $('diff-view').hidden = true;
  const document_ = editor!.getValue();
  try {
    const p = await post<Preview>('/api/facilities/preview', { scope: scope(), target: target(), document: document_ });
    showErrors(p.errors);
    if (p.errors.length) return;
    checked = JSON.stringify(document_);
    const t = el('table', { id: 'diff-table' }, el('tr', {}, el('th', {}, 'Setting'), el('th', {}, 'Running'), el('th', {}, 'After the push'), el('th', {}, 'Kiosks')));
    for (const c of p.changes) t.append(el('tr', { 'data-path': c.path }, el('td', {}, c.path), el('td', { class: 'before' }, show(c.before)), el('td', { class: 'after' }, show(c.after)), el('td', {}, `${c.kiosks.length}: ${c.kiosks.slice(0, 6).join(', ')}${c.kiosks.length > 6 ? ', …' : ''}`)));
    $('diff').replaceChildren(el('p', {}, `${p.kiosks.length} kiosk(s) under this layer; ${p.changes.length} setting(s) change.`), t);
    $('diff-view').hidden = false;
  } catch (err) {
    const e = err as ApiError;
    showErrors(e.body?.errors ?? [{ path: '', message: e.message }]);
  }
}

async function push(): Promise<void> {
  const stage = (document.querySelector('input[name="stage"]:checked') as HTMLInputElement).value;
  const canary =
    stage === 'all' ? null : stage === 'chosen' ? { kiosks: $<HTMLInputElement>('chosen').value.split(/[\s,]+/).filter(Boolean) } : { percent: Number($<HTMLInputElement>('percent').value) || 10 };
  try {
    const r = await post<Rollout>('/api/facilities/rollouts', { scope: scope(), target: target(), document: editor!.getValue(), comment: $<HTMLInputElement>('comment').value, canary });
    $('diff-view').hidden = true;
    follow(r.id);
    await history();
  } catch (err) {
    const e = err as ApiError;
    showErrors(e.body?.errors ?? [{ path: '', message: e.message }]);
  }
}

async function rollback(version: number): Promise<void> {
  if (!confirm(`Roll ${scope()} ${target()} back to version ${version}? Its document becomes the newest version and is pushed to every kiosk under it.`)) return;
  try {
    const r = await post<Rollout>(`/api/facilities/layers/${scope()}/${encodeURIComponent(target())}/rollback`, { version });
    follow(r.id);
    await loadLayer();
  } catch (err) {
    alert((err as Error).message);
  }
}

let following: string | undefined;
async function drawRollout(): Promise<void> {
  if (!following) return;
  const r = await get<Rollout>(`/api/facilities/rollouts/${following}`);
  $('rollout').replaceChildren(rolloutBlock(r));
  $('rollout-view').hidden = false;
  if (r.state === 'done' || r.state === 'failed') {
    await history();
    await effective();
  }
}

function follow(id: string): void {
  following = id;
  void drawRollout();
}

async function main(): Promise<void> {
  const [f, s] = await Promise.all([get<Fleet>('/api/facilities/fleet'), get<{ layer: Record<string, unknown> }>('/api/facilities/schema')]);
  fleet = f;
  layerSchema = s.layer;
  // Descriptions under every field (json-editor shows "description" as help text).
  JSONEditor.defaults.options.show_errors = 'always';
  targets();
  scopeSel.addEventListener('change', () => (targets(), void loadLayer()));
  targetSel.addEventListener('change', () => void loadLayer());
  $('effective-kiosk').addEventListener('change', () => void effective());
  $('check').addEventListener('click', () => void check());
  $('push').addEventListener('click', () => void push());
  const es = new EventSource('/api/facilities/stream');
  es.addEventListener('rollout', (e) => {
    if (JSON.parse((e as MessageEvent<string>).data).id === following) void drawRollout();
  });
  await loadLayer();
  document.body.dataset.ready = '1';
}

void main();
