// Call metadata carried on every INVITE, so any desk (ours, a PBX, a
// softphone) can see where a call comes from. Documented in docs/sip-headers.md.
import type { KioskConfig } from '../config/schema/kiosk.js';
import type { CallKind } from './events.js';

const clean = (s: string) => s.replace(/[\r\n]+/g, ' ').trim();

export function callHeaders(c: KioskConfig, call: { kind: CallKind; category?: string; ref: string; attempt: number }): string[] {
  const loc = c.location;
  const h = [
    `X-Helppoint-Kiosk: ${c.id}`,
    `X-Helppoint-Site: ${c.site.id}`,
    `X-Helppoint-Zone: ${c.zone}`,
    `X-Helppoint-Location: ${encodeURIComponent(clean(loc.text.en))}${loc.text['zh-CN'] ? `;zh-CN=${encodeURIComponent(clean(loc.text['zh-CN']))}` : ''}`,
    `X-Helppoint-Map: x=${loc.x};y=${loc.y}${loc.floor ? `;floor=${encodeURIComponent(loc.floor)}` : ''}${loc.lat !== undefined && loc.lon !== undefined ? `;geo=${loc.lat},${loc.lon}` : ''}`,
    `X-Helppoint-Category: ${call.category ?? call.kind}`,
    `X-Helppoint-Call-Ref: ${call.ref}`,
    `X-Helppoint-Attempt: ${call.attempt}`,
    `Subject: ${call.kind === 'emergency' ? 'EMERGENCY' : 'Information'} call from ${clean(loc.text.en).slice(0, 80)}`,
  ];
  if (call.kind === 'emergency') h.push('Priority: emergency');
  return h;
}
