// The console's side of the hub API: JSON requests with the session's CSRF
// token, the live feed (server-sent events, reconnecting by itself), and a
// few DOM helpers shared by the PA and incidents pages.

export type LocalText = { en: string; 'zh-CN'?: string };

const csrf = () => document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? '';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function answer<T>(r: Response): Promise<T> {
  if (r.status === 401) {
    location.href = '/';
    throw new ApiError(401, 'logged out');
  }
  const body = r.headers.get('content-type')?.includes('json') ? await r.json() : await r.text();
  if (!r.ok) throw new ApiError(r.status, (body as { error?: string })?.error ?? `HTTP ${r.status}`);
  return body as T;
}

export async function get<T>(path: string): Promise<T> {
  return answer<T>(await fetch(path, { headers: { accept: 'application/json' } }));
}

export async function post<T>(path: string, body: unknown = {}): Promise<T> {
  return answer<T>(await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf(), accept: 'application/json' }, body: JSON.stringify(body) }));
}

/** Raw bytes (an uploaded WAV). */
export async function upload<T>(path: string, data: Blob): Promise<T> {
  return answer<T>(await fetch(path, { method: 'POST', headers: { 'content-type': data.type || 'audio/wav', 'x-csrf-token': csrf(), accept: 'application/json' }, body: data }));
}

/** The live feed: one handler per event name. EventSource reconnects on its own. */
export function feed(handlers: Record<string, (data: any) => void>, onState?: (open: boolean) => void): EventSource {
  const es = new EventSource('/api/pa/stream');
  for (const [name, fn] of Object.entries(handlers)) es.addEventListener(name, (e) => fn(JSON.parse((e as MessageEvent).data)));
  es.onopen = () => onState?.(true);
  es.onerror = () => onState?.(false);
  return es;
}

export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> & Record<string, unknown> = {}, kids: (Node | string)[] = []): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role') e.setAttribute(k, String(v));
    else (e as unknown as Record<string, unknown>)[k] = v;
  }
  e.append(...kids);
  return e;
}

/** Says something to everyone, screen readers included. */
export function toast(text: string, error = false): void {
  const t = $('toast');
  t.textContent = text;
  t.className = error ? 'error' : '';
  clearTimeout((t as unknown as { timer?: number }).timer);
  (t as unknown as { timer?: number }).timer = window.setTimeout(() => (t.textContent = ''), 8000);
}

export const time = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—');

/** Checkboxes for zones, in a container; returns a reader of the chosen ones. */
export function zoneChecks(box: HTMLElement, zones: { id: string; name: LocalText; paging?: boolean }[], name: string, onlyPaging = false): () => string[] {
  box.replaceChildren(
    ...zones.map((z) =>
      el('label', { className: 'check' }, [
        el('input', { type: 'checkbox', name, value: z.id, disabled: onlyPaging && !z.paging, 'data-zone': z.id }),
        ` ${z.name.en}${z.name['zh-CN'] ? ` · ${z.name['zh-CN']}` : ''}${onlyPaging && !z.paging ? ' (no page group)' : ''}`,
      ]),
    ),
  );
  return () => [...box.querySelectorAll<HTMLInputElement>('input:checked')].map((i) => i.value);
}
