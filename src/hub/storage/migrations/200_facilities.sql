-- Facilities console: staged layer versions and rollouts.
--
-- A layer version is 'released' (the fleet composes it: the newest released
-- version of a layer is its current one), 'staged' (a rollout is trying it on
-- its canary kiosks; only they compose it) or 'abandoned' (its rollout failed;
-- kept for the history, never current).
alter table config_layers add column state text not null default 'released' check (state in ('staged', 'released', 'abandoned'));

-- One rollout of one layer version: canary kiosks first, the rest once every
-- canary reported healthy. Runs on whichever hub instance holds its lease, so
-- it survives a restart and works across instances.
create table rollouts (
  id text primary key,
  kind text not null check (kind in ('change', 'rollback')),
  scope text not null,
  target text not null default '',
  version integer not null,
  previous integer not null default 0,
  state text not null check (state in ('canary', 'rest', 'done', 'failed')),
  reason text not null default '',
  comment text not null default '',
  created_by text not null,
  created_at timestamptz not null default now(),
  stage_at timestamptz not null default now(),
  finished_at timestamptz,
  canary_timeout_s integer not null,
  -- kiosk events after this serial are judged (config.healthy, config.rollback)
  event_serial bigint not null default 0,
  owner text,
  lease_until timestamptz
);
create index rollouts_active on rollouts (state) where state in ('canary', 'rest');
create index rollouts_layer on rollouts (scope, target, created_at);

-- Each kiosk of a rollout: its stage, the kiosk config version it was sent and how it went.
create table rollout_kiosks (
  rollout_id text not null references rollouts (id) on delete cascade,
  kiosk_id text not null,
  stage text not null check (stage in ('canary', 'rest')),
  version integer,
  state text not null default 'waiting' check (state in ('waiting', 'sent', 'acked', 'healthy', 'failed', 'refused', 'rolled-back')),
  detail text not null default '',
  faults_before jsonb,
  updated_at timestamptz not null default now(),
  primary key (rollout_id, kiosk_id)
);
create index rollout_kiosks_kiosk on rollout_kiosks (kiosk_id);

-- When each kiosk process started (from the uptime in its heartbeats; protocol 3).
alter table kiosks add column started_at timestamptz;
