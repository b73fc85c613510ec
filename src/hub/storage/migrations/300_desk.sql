-- The dispatch desk (issue 12): desks held by dispatchers, claims on alarms,
-- what dispatchers did, open information calls and the callers' languages.

-- A console desk (one SIP account) held by one dispatcher's session at a time.
create table desk_seats (
  desk_id text primary key,
  user_name text not null,
  session_sha256 text not null,
  taken_at timestamptz not null default now()
);
create index desk_seats_session on desk_seats (session_sha256);

-- Who takes an alarm. One row per alarm; a live claim (released_at null)
-- belongs to exactly one desk: taking it is one insert ... on conflict, so two
-- dispatchers answering at once cannot both win.
create table desk_claims (
  alarm_id text primary key,
  kiosk_id text not null,
  user_name text not null,
  desk_id text not null,
  mode text not null check (mode in ('answer', 'pickup', 'listen')),
  claimed_at timestamptz not null default now(),
  confirmed boolean not null default false,
  released_at timestamptz,
  released_why text
);

-- What dispatchers did at the desk, for the kiosk's history (with its events).
create table desk_actions (
  serial bigserial primary key,
  at timestamptz not null default now(),
  kiosk_id text not null,
  alarm_id text,
  user_name text not null,
  desk_id text,
  action text not null,
  detail jsonb
);
create index desk_actions_kiosk on desk_actions (kiosk_id, serial);
create index desk_actions_alarm on desk_actions (alarm_id);

-- Information calls a kiosk placed that have not ended (the board shows them after the alarms).
create table desk_calls (
  call_id text primary key,
  kiosk_id text not null,
  -- the kiosk process (boot) that placed it: a kiosk that restarted has no call from before
  boot text not null,
  state text not null,
  category text,
  target text,
  attempt integer,
  started_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index desk_calls_kiosk on desk_calls (kiosk_id);

-- The language each kiosk's screen shows (the caller's language), from screen.language and chat.
create table desk_languages (
  kiosk_id text primary key,
  lang text not null,
  at timestamptz not null default now()
);
