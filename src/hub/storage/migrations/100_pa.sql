-- PA console, incidents and drills (issue 13). Migration range 100-199.

-- Rights a user holds besides the role: 'pa.approve' approves PA message wordings.
alter table users add column rights text[] not null default '{}';

-- The message library: one approved wording per situation, in zh-CN and en,
-- with its audio. A wording is versioned: an approved version never changes;
-- editing it makes the next version, a draft, which a second user approves.
create table pa_messages (
  id text not null,
  version integer not null,
  name text not null,
  text_en text not null,
  text_zh text,
  level text,
  -- per language: {"sha256", "seconds", "synthetic": true when espeak-ng spoke it}
  audio jsonb not null default '{}',
  -- the clip the kiosks play: every language in order (composed by the hub)
  clip_sha256 text,
  clip_seconds real,
  state text not null default 'draft' check (state in ('draft', 'approved', 'retired')),
  created_by text not null,
  created_at timestamptz not null default now(),
  -- the last user who changed this version: the approver must be someone else than them and its author
  edited_by text not null,
  approved_by text,
  approved_at timestamptz,
  primary key (id, version)
);

-- What dispatchers asked to play: now, at a time, or repeated; cancelled by a user.
create table pa_plays (
  id text primary key,
  message_id text not null,
  message_version integer not null,
  zones text[] not null,
  kiosks text[],
  channel text not null,
  drill boolean not null default false,
  incident_id text,
  start_at timestamptz,
  every_s integer,
  times integer,
  next_at timestamptz,
  fired integer not null default 0,
  state text not null check (state in ('scheduled', 'done', 'cancelled')),
  created_by text not null,
  created_at timestamptz not null default now(),
  cancelled_by text,
  cancelled_at timestamptz
);
create index pa_plays_due on pa_plays (next_at) where state = 'scheduled';

-- One push to kiosks: an occurrence of a play, or a live page from the console.
create table pa_actions (
  id text primary key,
  kind text not null check (kind in ('message', 'live')),
  play_id text,
  message_id text,
  message_version integer,
  text jsonb,
  zones text[] not null,
  channel text not null,
  drill boolean not null default false,
  incident_id text,
  created_by text not null,
  created_at timestamptz not null default now(),
  ended_at timestamptz
);
create index pa_actions_created on pa_actions (created_at);
create index pa_actions_incident on pa_actions (incident_id);

-- The receipt of each kiosk for each action: pending -> delivered -> started ->
-- finished | stopped | failed (with the reason); never going back (rank).
create table pa_receipts (
  action_id text not null references pa_actions (id) on delete cascade,
  kiosk_id text not null,
  state text not null check (state in ('pending', 'delivered', 'started', 'finished', 'stopped', 'failed')),
  rank integer not null,
  reason text,
  via text,
  delivered_at timestamptz,
  started_at timestamptz,
  ended_at timestamptz,
  updated_at timestamptz not null default now(),
  primary key (action_id, kiosk_id)
);
create index pa_receipts_kiosk on pa_receipts (kiosk_id, action_id);

-- Incidents and drills. A drill is an incident with drill = true: its records never mix with real ones.
create table incidents (
  id text primary key,
  drill boolean not null,
  state text not null default 'open' check (state in ('open', 'closed')),
  title text not null,
  kind text not null check (kind in ('incident', 'evacuation')),
  level text not null,
  colour text,
  zones text[] not null,
  blocked_exits text[] not null default '{}',
  guidance jsonb,
  message_id text,
  play_id text,
  declared_by text not null,
  declared_at timestamptz not null default now(),
  closed_by text,
  closed_at timestamptz,
  summary text
);
create index incidents_open on incidents (state, drill);

-- Every action of an incident: who, what, when, with the details (receipts, alarms).
create table incident_timeline (
  serial bigserial primary key,
  incident_id text not null references incidents (id) on delete cascade,
  at timestamptz not null default now(),
  by_user text not null,
  kind text not null,
  text text not null,
  detail jsonb
);
create index incident_timeline_incident on incident_timeline (incident_id, serial);
