-- Log-in rate limits counted in the database, so that several hub instances
-- behind one load balancer share them (a per-process count would give an
-- attacker one allowance per instance).
create table rate_limits (
  key text primary key,
  hits integer not null,
  window_start timestamptz not null
);
