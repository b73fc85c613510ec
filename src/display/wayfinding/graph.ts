// Wayfinding: the site's walkable graph (graphology) and shortest routes from
// this kiosk. Edge weight is the straight-line length; step-free routes drop
// edges flagged as stairs. The file is validated against its schema on load:
// a bad map fails loudly at start, never mid-route.
import { readFileSync } from 'node:fs';
import { UndirectedGraph } from 'graphology';
import { dijkstra } from 'graphology-shortest-path';
import { validator } from '../../validators/index.js';
import type { WayfindingData } from '../../config/schema/display.js';

type LText = { en: string; 'zh-CN': string };
export interface RouteStep { from: string; to: string; stairs: boolean; via?: LText; metres: number }
export interface Route { to: string; nodes: string[]; points: Array<[number, number]>; steps: RouteStep[]; metres: number }

export class WayMap {
  private readonly all = new UndirectedGraph();
  private readonly stepFree = new UndirectedGraph();

  constructor(readonly data: WayfindingData) {
    const ids = new Set(data.nodes.map((n) => n.id));
    for (const n of data.nodes) {
      this.all.addNode(n.id, n);
      this.stepFree.addNode(n.id, n);
    }
    for (const e of data.edges) {
      for (const end of [e.from, e.to]) if (!ids.has(end)) throw new Error(`wayfinding: edge names unknown node "${end}"`);
      const a = this.all.getNodeAttributes(e.from), b = this.all.getNodeAttributes(e.to);
      const attrs = { weight: Math.hypot(a.x - b.x, a.y - b.y), stairs: !!e.stairs, via: e.via };
      this.all.addEdge(e.from, e.to, attrs);
      if (!e.stairs) this.stepFree.addEdge(e.from, e.to, attrs);
    }
    for (const d of data.destinations) if (!ids.has(d.node)) throw new Error(`wayfinding: destination "${d.id}" names unknown node "${d.node}"`);
    for (const [k, n] of Object.entries(data.kiosks)) if (!ids.has(n)) throw new Error(`wayfinding: kiosk "${k}" names unknown node "${n}"`);
  }

  static load(file: string): WayMap {
    return WayMap.check(JSON.parse(readFileSync(file, 'utf8')));
  }

  /** Schema check, then cross-references (edges, destinations and kiosks name real nodes). */
  static check(raw: unknown): WayMap {
    const check = validator<WayfindingData>('wayfinding');
    if (!check(raw)) {
      const first = check.errors?.[0];
      throw new Error(`wayfinding file invalid at ${first?.instancePath || '/'}: ${first?.message}`);
    }
    return new WayMap(raw);
  }

  /** Shortest route between two nodes; null when none exists (e.g. no step-free way). */
  route(from: string, toDest: string, opts: { stepFree?: boolean } = {}): Route | null {
    const dest = this.data.destinations.find((d) => d.id === toDest);
    if (!dest) throw new Error(`unknown destination "${toDest}"`);
    const g = opts.stepFree ? this.stepFree : this.all;
    const nodes = dijkstra.bidirectional(g, from, dest.node, 'weight');
    if (!nodes) return null;
    const steps: RouteStep[] = [];
    for (let i = 1; i < nodes.length; i++) {
      const a = g.edge(nodes[i - 1], nodes[i])!;
      const attr = g.getEdgeAttributes(a) as { weight: number; stairs: boolean; via?: LText };
      const prev = steps[steps.length - 1];
      // Consecutive edges along the same way read as one instruction.
      if (prev && prev.stairs === attr.stairs && prev.via?.en === attr.via?.en) { prev.to = nodes[i]; prev.metres += Math.round(attr.weight); continue; }
      steps.push({ from: nodes[i - 1], to: nodes[i], stairs: attr.stairs, via: attr.via, metres: Math.round(attr.weight) });
    }
    const points = nodes.map((n) => { const a = g.getNodeAttributes(n); return [a.x, a.y] as [number, number]; });
    return { to: toDest, nodes, points, steps, metres: steps.reduce((s, x) => s + x.metres, 0) };
  }

  /** Nearest exit not blocked, by walking distance (step-free not required in evacuation). */
  nearestExit(from: string, blocked: string[] = []): Route | null {
    let best: Route | null = null;
    for (const d of this.data.destinations) {
      if (d.category !== 'exit' || blocked.includes(d.id)) continue;
      const r = this.route(from, d.id);
      if (r && (!best || r.metres < best.metres)) best = r;
    }
    return best;
  }
}
