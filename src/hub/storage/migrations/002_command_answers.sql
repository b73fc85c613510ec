-- A command's target kiosks as one array, and its answers as one row per
-- stored batch of results (arrays of kiosk, ok, error), instead of one row
-- per kiosk written twice (pending, then its answer). A PA to a zone of
-- 10,000 kiosks now writes a handful of rows, not 20,000.
-- The first answer of a kiosk counts (readers take the lowest serial);
-- answers from kiosks the command was not sent to are ignored by readers.
alter table commands add column kiosks text[] not null default '{}';

create table command_answers (
  serial bigserial primary key,
  command_id text not null references commands (id) on delete cascade,
  kiosks text[] not null,
  oks boolean[] not null,
  errors text[] not null,
  at timestamptz not null default now()
);
create index command_answers_command on command_answers (command_id, serial);

update commands c set kiosks = coalesce((select array_agg(r.kiosk_id order by r.kiosk_id) from command_results r where r.command_id = c.id), '{}');

insert into command_answers (command_id, kiosks, oks, errors, at)
  select command_id, array_agg(kiosk_id order by kiosk_id), array_agg(state = 'ok' order by kiosk_id), array_agg(error order by kiosk_id), coalesce(max(updated_at), now())
  from command_results where state <> 'pending' group by command_id;

drop table command_results;
