// The desk groups of a hub's desk section: group -> member desks, in the
// order the desks are listed. The SIP server's group list is generated from
// this (test bed, demo; the production users file says how to write it).
import type { DeskConfig } from './service.js';

export function deskGroups(desk: Pick<DeskConfig, 'desks'> | undefined): Record<string, string[]> {
  const groups: Record<string, string[]> = {};
  for (const d of desk?.desks ?? []) for (const g of d.groups ?? []) (groups[g] ??= []).push(d.id);
  return groups;
}
