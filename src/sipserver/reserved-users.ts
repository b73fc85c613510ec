// User names the site SIP server keeps for itself (kamailio-cfg.ts routes
// them before any account): "page-KIOSK" pages one kiosk, "page-zone-ZONE",
// "page-group-GROUP" and "page-all" page zones through the hub's page gateway
// (docs/pa.md). An account whose
// name begins with "page-" could never be called: a call to it would be taken
// for a page to another kiosk (or a zone). A kiosk is paged at page-KIOSK, so
// a kiosk named "zone-...", "group-..." or "all" could not be paged
// (page-zone-..., page-group-... and page-all page zones),
// and one named like the kiosks' paging user (site value PAGING_USER, each
// kiosk's sip.paging.user) would take an ordinary call for a page, or a page
// for a call. This file is the one place of the rule: the kiosk config check,
// the hub config check and the test bed's account list (which the demo's
// uses) all ask it. No imports: the kiosk loads it with its config check.

/** sip:page-KIOSK@domain: a page to one kiosk (route PAGE). */
export const PAGE_PREFIX = 'page-';
/** sip:page-zone-ZONE@domain: a zone page to the hub's page gateway (route ZONE_PAGE, matched first). */
export const ZONE_PAGE_PREFIX = 'page-zone-';
/** sip:page-group-GROUP@domain: a zone group's page to the hub's page gateway (route ZONE_PAGE). */
export const GROUP_PAGE_PREFIX = 'page-group-';
/** sip:page-all@domain: all-call, every zone, through the hub's page gateway (route ZONE_PAGE). */
export const ALL_PAGE_USER = 'page-all';
/** The kiosks' paging user when sip.paging does not name one (the site template's PAGING_USER). */
export const DEFAULT_PAGING_USER = 'page';

/** The kiosk paged at page-zone-...: a zone page's address, never this kiosk's. */
export const KIOSK_ZONE_PREFIX = ZONE_PAGE_PREFIX.slice(PAGE_PREFIX.length);
/** The kiosks paged at page-group-... and page-all: zone pages' addresses too. */
export const KIOSK_GROUP_PREFIX = GROUP_PAGE_PREFIX.slice(PAGE_PREFIX.length);
export const KIOSK_ALL = ALL_PAGE_USER.slice(PAGE_PREFIX.length);

/**
 * Why `user` cannot be an account at the site SIP server, if it cannot. Compared in any case: a name that differs
 * only in case is refused too, so no account depends on how the server compares case.
 */
export function reservedSipUserProblem(user: string): string | undefined {
  if (!user.toLowerCase().startsWith(PAGE_PREFIX)) return undefined;
  return `"${user}" is reserved at the site SIP server: names beginning with "${PAGE_PREFIX}" are its paging addresses (sip:${PAGE_PREFIX}KIOSK@domain, sip:${ZONE_PAGE_PREFIX}ZONE@domain, sip:${GROUP_PAGE_PREFIX}GROUP@domain, sip:${ALL_PAGE_USER}@domain); choose another name`;
}

/**
 * The same for a kiosk's own account, which is also paged at page-KIOSK: not "zone-..." either, nor `pagingUser`
 * (the paging user pages reach a kiosk under; undefined: not checked here).
 */
export function reservedKioskUserProblem(user: string, pagingUser?: string): string | undefined {
  const u = user.toLowerCase();
  if (u.startsWith(KIOSK_ZONE_PREFIX) || u.startsWith(KIOSK_GROUP_PREFIX) || u === KIOSK_ALL) {
    return `"${user}" cannot be a kiosk's SIP user: a kiosk is paged at sip:${PAGE_PREFIX}KIOSK@domain, and sip:${ZONE_PAGE_PREFIX}...@domain, sip:${GROUP_PAGE_PREFIX}...@domain and sip:${ALL_PAGE_USER}@domain page zones; choose a name that is not "${KIOSK_ALL}" and does not begin with "${KIOSK_ZONE_PREFIX}" or "${KIOSK_GROUP_PREFIX}"`;
  }
  if (pagingUser !== undefined && u === pagingUser.toLowerCase()) {
    return `"${user}" is the kiosks' paging user (sip.paging.user, the site SIP server's PAGING_USER): pages reach a kiosk under this name; choose another name`;
  }
  return reservedSipUserProblem(user);
}
