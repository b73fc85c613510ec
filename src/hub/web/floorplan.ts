// The site's floor plan with kiosk markers, shared by the console pages that
// show kiosks on the map (the facilities fleet map, the desk's mini map).
export interface SiteMap {
  width: number;
  height: number;
  /** the hub serves a floor plan image (/api/facilities/floorplan) */
  floorplan: boolean;
}

const SVG = 'http://www.w3.org/2000/svg';

export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/** Replaces the holder's content with the floor plan (an empty one of the default size without a site map). */
export function drawFloorplan(holder: HTMLElement, map: SiteMap | null): SVGSVGElement {
  holder.textContent = '';
  const w = map?.width ?? 200;
  const h = map?.height ?? 120;
  const s = svg('svg', { viewBox: `0 0 ${w} ${h}`, class: 'floorplan', role: 'img', 'aria-label': 'floor plan with kiosks' });
  if (map?.floorplan) s.append(svg('image', { href: '/api/facilities/floorplan', x: 0, y: 0, width: w, height: h }));
  holder.append(s);
  return s;
}

/** The kiosk's marker (a dot and its id), made on first use; the caller sets its class and title. */
export function kioskMarker(map: SVGSVGElement, id: string, at: { x: number; y: number }): SVGGElement {
  let g = map.querySelector<SVGGElement>(`g[data-kiosk="${CSS.escape(id)}"]`);
  if (!g) {
    g = svg('g', { 'data-kiosk': id });
    const c = svg('circle', { cx: at.x, cy: at.y, r: 3.2 });
    const t = svg('text', { x: at.x + 4.5, y: at.y + 1.5, 'font-size': 4 });
    t.textContent = id;
    g.append(c, t, svg('title', {}));
    map.append(g);
  }
  return g;
}
