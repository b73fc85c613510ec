-- Reboots of kiosk boards asked from the hub (command kiosk.reboot).
--
-- The board's boot id each kiosk last reported in its heartbeats (protocol 5):
-- a reboot is done when the kiosk comes back with another one.
alter table kiosks add column boot_id text;

-- One row per reboot command. state: asked (sent, no answer yet), rebooting
-- (the kiosk handed the reboot to its system), back (it came back with another
-- boot id: the command's result is ok), not-back (no other boot id by the
-- deadline), refused / failed (the kiosk's answer: its reason, or the reboot
-- command's error). The command's result (command_answers) is written only at
-- back, not-back, refused and failed.
create table kiosk_reboots (
  command_id text primary key,
  kiosk_id text not null,
  asked_by text not null,
  asked_at timestamptz not null default now(),
  deadline timestamptz not null,
  boot_before text not null,
  state text not null default 'asked' check (state in ('asked', 'rebooting', 'back', 'not-back', 'refused', 'failed')),
  handed_at timestamptz,
  ended_at timestamptz,
  boot_after text,
  error text
);
-- At most one reboot under way per kiosk: a second ask while one is open fails on this index.
create unique index kiosk_reboots_open on kiosk_reboots (kiosk_id) where state in ('asked', 'rebooting');
create index kiosk_reboots_kiosk on kiosk_reboots (kiosk_id, asked_at);
