-- The hub's tables. Plain SQL, run once in order by migrate.ts; the same on
-- PGlite and PostgreSQL. Times are timestamptz; documents are jsonb.

create table settings (
  key text primary key,
  value text not null
);

-- Kiosks: enrolment, credentials (only the SHA-256 of the token), revocation,
-- and their presence as last reported (written in batches by the instance
-- holding the socket).
create table kiosks (
  id text primary key,
  zone text not null,
  location jsonb not null,
  base_config text,
  token_sha256 text unique,
  token_issued_at timestamptz,
  revoked_at timestamptz,
  enrolled_at timestamptz not null default now(),
  enrolled_by text not null default 'config',
  instance_id text,
  last_seen timestamptz,
  firmware text,
  config_version integer not null default 0,
  faults jsonb not null default '[]',
  outbox integer not null default 0
);
create index kiosks_zone on kiosks (zone);

create table users (
  name text primary key,
  role text not null check (role in ('dispatcher', 'facilities', 'admin')),
  password_hash text not null,
  source text not null default 'config',
  disabled boolean not null default false,
  created_at timestamptz not null default now()
);

-- Console sessions: the cookie carries a random id, the table only its SHA-256.
create table sessions (
  id_sha256 text primary key,
  user_name text not null,
  role text not null,
  csrf text not null,
  address text,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  revoked_at timestamptz
);
create index sessions_user on sessions (user_name);

-- Config layers: defaults < site < zone < kiosk, each a versioned document
-- (an override merged over the layers below it and the kiosk's base file).
create table config_layers (
  scope text not null check (scope in ('defaults', 'site', 'zone', 'kiosk')),
  target text not null default '',
  version integer not null,
  document jsonb not null,
  author text not null,
  comment text not null default '',
  created_at timestamptz not null default now(),
  primary key (scope, target, version)
);

-- One push of configuration to a set of kiosks; instances are told its id.
create table config_pushes (
  id text primary key,
  created_by text not null,
  created_at timestamptz not null default now()
);

-- Each kiosk's config versions: which layer versions made it, and its fate.
create table kiosk_configs (
  kiosk_id text not null references kiosks (id) on delete cascade,
  version integer not null,
  push_id text not null references config_pushes (id),
  layers jsonb not null,
  status text not null default 'pending' check (status in ('pending', 'acked', 'refused', 'superseded')),
  errors jsonb,
  created_at timestamptz not null default now(),
  acked_at timestamptz,
  primary key (kiosk_id, version)
);
create index kiosk_configs_push on kiosk_configs (push_id);
create index kiosk_configs_pending on kiosk_configs (kiosk_id) where status = 'pending';

create table commands (
  id text primary key,
  command text not null,
  args jsonb not null,
  created_by text not null,
  role text not null,
  created_at timestamptz not null default now()
);

create table command_results (
  command_id text not null references commands (id) on delete cascade,
  kiosk_id text not null,
  state text not null check (state in ('pending', 'ok', 'failed')),
  error text,
  updated_at timestamptz,
  primary key (command_id, kiosk_id)
);

-- Kiosk events, unique by the kiosk's event id; serial gives the order received.
create table events (
  serial bigserial primary key,
  id text not null unique,
  kiosk_id text not null,
  seq bigint not null,
  at text not null,
  at_ts timestamptz,
  type text not null,
  data jsonb,
  received_at timestamptz not null default now()
);
create index events_kiosk on events (kiosk_id, serial);
create index events_type on events (type, serial);
create index events_time on events (received_at);

-- One row per alarm (kiosk alarm.state events); the latest transition wins, never going back.
create table alarms (
  alarm_id text primary key,
  kiosk_id text not null,
  state text not null,
  rank integer not null,
  kind text,
  category text,
  source text,
  raised_at text,
  at text not null,
  data jsonb not null,
  updated_at timestamptz not null default now()
);
create index alarms_kiosk on alarms (kiosk_id);

create table audit (
  serial bigserial primary key,
  at timestamptz not null default now(),
  user_name text not null,
  role text not null,
  action text not null,
  target text not null default '',
  result text not null,
  detail jsonb,
  address text
);
create index audit_at on audit (at);
