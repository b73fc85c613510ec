// The touch screen's server side. It only subscribes to bus events and emits
// intents (call.requested, call.answer, chat.toDesk, call.rating); nothing on the call path
// awaits it, so a crashed or hung browser cannot delay a call or a PA message.
// The page is static (web/) and talks over one local WebSocket, /screen/ws.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Bus } from '../core/bus.js';
import type { Logger } from '../core/log.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import type { LocalServer } from '../kiosk/local-server.js';
import { sendJson } from '../kiosk/local-server.js';
import { WayMap, type Route } from './wayfinding/graph.js';
import { ScreenState } from './state.js';
import type { Faults } from '../health/faults.js';
import type { AlarmState } from '../alarm/events.js';

// The page's files are not compiled: from dist/ they are read in the source tree.
const HERE = ((here: string) => (existsSync(path.join(here, 'web/index.html')) ? here : path.resolve(here, '../../../src/display')))(
  path.dirname(fileURLToPath(import.meta.url)),
);
const STATIC: Record<string, [string, string]> = {
  '/': ['web/index.html', 'text/html; charset=utf-8'],
  '/screen/app.js': ['web/app.js', 'text/javascript; charset=utf-8'],
  '/screen/style.css': ['web/style.css', 'text/css; charset=utf-8'],
  '/screen/i18n/en.json': ['i18n/en.json', 'application/json; charset=utf-8'],
  '/screen/i18n/zh-CN.json': ['i18n/zh-CN.json', 'application/json; charset=utf-8'],
};
export const CATEGORIES = ['medical', 'security', 'lost-property', 'enquiry', 'accessibility'] as const;
const MAX_CHAT = 500;

export interface Screen {
  state: ScreenState;
  map?: WayMap;
  clients(): number;
  /** A new config, live: texts and languages at once; a new map makes open pages reload. Throws (changing nothing) on a map it cannot use. */
  update(config: KioskConfig): void;
  close(): void;
}

/** The wayfinding graph, this kiosk's node on it and the floor plan of a config. */
function loadMap(config: KioskConfig, configDir: string, log: Logger): { map?: WayMap; here?: string; floorplan?: string } {
  const wf = config.display.wayfinding;
  const map = wf ? WayMap.load(path.resolve(configDir, wf)) : undefined;
  const here = map?.data.kiosks[config.id];
  if (map && !here) throw new Error(`wayfinding: no graph node for kiosk "${config.id}"`);
  return { map, here, floorplan: readFloorplan(config, configDir, log) };
}

export function attachScreen(opts: { bus: Bus; log: Logger; config: KioskConfig; configDir: string; local: LocalServer; faults?: Faults; alarm?: () => AlarmState | undefined }): Screen {
  const { bus, log, configDir, local } = opts;
  let config = opts.config;
  let { map, here, floorplan } = loadMap(config, configDir, log);

  const evacRoute = (blocked: string[]): Route | null => (map && here ? map.nearestExit(here, blocked) : null);
  const state = new ScreenState(bus, config, evacRoute, opts.alarm);
  // Any active fault shows the approved degraded wording (never the fault text).
  const faultsNow = () => state.setFaults(opts.faults?.list().length ?? 0);
  bus.on('fault.raised', faultsNow);
  bus.on('fault.cleared', faultsNow);

  for (const [url, [file, type]] of Object.entries(STATIC)) {
    const body = readFileSync(path.join(HERE, file));
    local.route('GET', url, (_req, res) => { res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }); res.end(body); });
  }
  local.route('GET', '/screen/map', (_req, res) =>
    sendJson(res, 200, { floorplan: floorplan ?? null, here: here ?? null, data: map?.data ?? null, size: config.site.map ?? null }));
  const mapOf = (c: KioskConfig) => JSON.stringify([c.display.wayfinding, c.site.map, c.id]);

  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 });
  // The local server checks Host and Origin before it hands the upgrade over (local-server.ts).
  local.upgrade('/screen/ws', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws)));
  const send = (ws: WebSocket, msg: unknown) => { if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg)); };
  state.onChange((snap) => { for (const ws of wss.clients) send(ws, { type: 'state', state: snap }); });

  wss.on('connection', (ws) => {
    send(ws, { type: 'state', state: state.snapshot() });
    ws.on('message', (data) => {
      let msg: Record<string, unknown>;
      try { msg = JSON.parse(String(data)) as Record<string, unknown>; } catch { return send(ws, { type: 'error', error: 'bad-message' }); }
      try {
        handle(ws, msg);
      } catch (err) {
        log.warn({ err: (err as Error).message, type: msg.type }, 'screen message refused');
        send(ws, { type: 'error', error: 'refused' }); // never raw errors on the screen
      }
    });
  });

  let screenLang: string | undefined;
  const language = (v: unknown) => (typeof v === 'string' && config.display.languages.includes(v as never) ? v : undefined);

  function handle(ws: WebSocket, msg: Record<string, unknown>): void {
    switch (msg.type) {
      // The page is alive: its own timer sends this every 5 s (a hung page stops; supervision raises the screen fault).
      case 'heartbeat':
        bus.emit('screen.heartbeat', { at: performance.now() });
        return;
      case 'call': {
        const kind = msg.kind;
        if (kind !== 'emergency' && kind !== 'information') throw new Error('kind must be emergency or information');
        const category = msg.category;
        if (category !== undefined && !(CATEGORIES as readonly unknown[]).includes(category)) throw new Error('unknown category');
        bus.emit('call.requested', { kind, ...(category ? { category: category as string } : {}), source: 'screen' });
        return;
      }
      case 'chat': {
        const text = typeof msg.text === 'string' ? msg.text.trim() : '';
        if (!text || text.length > MAX_CHAT) throw new Error('chat text must be 1..500 characters');
        const lang = language(msg.lang) ?? screenLang;
        const m = { callId: state.callId(), text, at: new Date().toISOString(), ...(lang ? { lang } : {}) };
        bus.emit('chat.toDesk', m);
        return;
      }
      case 'language': {
        // The desk chats in the visitor's language: told when the screen connects and when the visitor switches.
        const lang = language(msg.lang);
        if (!lang) throw new Error('lang must be one of display.languages');
        if (lang !== screenLang) {
          screenLang = lang;
          bus.emit('screen.language', { lang });
        }
        return;
      }
      case 'answer': {
        // A person at the kiosk answers the call that rings (any call, trusted or not: they chose to).
        const callId = state.ringingCallId();
        if (!callId) throw new Error('no incoming call is ringing');
        bus.emit('call.answer', { callId });
        return;
      }
      case 'rating': {
        const r = msg.rating, callId = state.lastCallId();
        if (typeof r !== 'number' || ![1, 2, 3, 4, 5].includes(r) || !callId) throw new Error('rating must be 1..5 after a call');
        bus.emit('call.rating', { callId, rating: r as 1 | 2 | 3 | 4 | 5 });
        state.rated();
        return;
      }
      case 'route': {
        if (!map || !here) throw new Error('no wayfinding map');
        const route = map.route(here, String(msg.to), { stepFree: msg.stepFree === true });
        send(ws, { type: 'route', to: msg.to, stepFree: msg.stepFree === true, route });
        return;
      }
      default:
        throw new Error('unknown message type');
    }
  }

  function update(next: KioskConfig): void {
    const newMap = mapOf(next) !== mapOf(config);
    if (newMap) ({ map, here, floorplan } = loadMap(next, configDir, log)); // throws before anything changed
    config = next;
    screen.map = map;
    state.setConfig(next);
    // The page fetched the map once: it reloads (and shows the current state at once).
    if (newMap) for (const ws of wss.clients) send(ws, { type: 'reload' });
  }

  const screen: Screen = { state, map, update, clients: () => wss.clients.size, close: () => { for (const c of wss.clients) c.terminate(); wss.close(); state.close(); } };
  return screen;
}

// The floor plan is decoration under the route: without it the screen still
// draws the walkable graph, so a missing file is logged, not fatal.
function readFloorplan(config: KioskConfig, configDir: string, log: Logger): string | undefined {
  const f = config.site.map?.floorplan;
  if (!f) return undefined;
  try {
    return readFileSync(path.resolve(configDir, f), 'utf8');
  } catch (err) {
    log.error({ err: (err as Error).message }, 'floor plan unreadable; map shown without it');
    return undefined;
  }
}
