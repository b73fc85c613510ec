// Exit statuses with a meaning for the supervisor (systemd, the demo, the
// test bed). 75 is EX_TEMPFAIL in sysexits.h: "try again".

/** A clean exit asking to be started again: a config change that needs a restart (it is already persisted). */
export const RESTART_EXIT_CODE = 75;
