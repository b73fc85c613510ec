-- Supervision (issue 15, hub side): test calls as the kiosk reports them and
-- as the hub's test answerer heard them (joined by testId), a kiosk's
-- link to the hub going up and down (for availability), and the hub's own
-- "test overdue" alarms (rows of the alarms table, category 'supervision').

-- The kiosk's verdict (recorded event supervision.test), one row per testId.
create table supervision_tests (
  test_id text primary key,
  kiosk_id text not null,
  trigger text not null,
  started_at timestamptz not null,
  at timestamptz not null,
  passed boolean not null,
  failed_step text,
  steps jsonb not null,
  interval_s integer,
  next_at text,
  received_at timestamptz not null default now()
);
create index supervision_tests_kiosk on supervision_tests (kiosk_id, at);
create index supervision_tests_at on supervision_tests (at);

-- What the hub's test answerer observed on the call of a testId.
create table supervision_answers (
  test_id text primary key,
  kiosk_id text not null,
  call_id text not null,
  instance_id text not null,
  from_uri text,
  answered_at timestamptz,
  tone_heard boolean not null,
  tone_ms integer,
  info_sent text,
  dtmf_received boolean not null,
  dtmf_sent boolean not null,
  ended_at timestamptz not null,
  end_reason text,
  rtp jsonb
);
create index supervision_answers_kiosk on supervision_answers (kiosk_id, ended_at);

-- The kiosk's link to the hub: one row per change (online true/false), for availability.
create table supervision_links (
  serial bigserial primary key,
  kiosk_id text not null,
  at timestamptz not null default now(),
  online boolean not null
);
create index supervision_links_kiosk on supervision_links (kiosk_id, at);
