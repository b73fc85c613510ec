-- A command's progress as counters on its row: how many of its kiosks
-- answered ok and how many failed, counting each kiosk's first answer only
-- and only kiosks the command was sent to. They are kept in the transaction
-- that stores a batch of answers (HubStorage.commandResults, under the row's
-- lock), so a console watching a fan-out reads one row by its key instead of
-- regrouping every answer on each look (bench hub: pa_fanout_1000_ms).
alter table commands add column answered_ok integer not null default 0;
alter table commands add column answered_failed integer not null default 0;

update commands c set answered_ok = f.ok, answered_failed = f.failed
  from (select a.command_id, (count(*) filter (where a.ok))::int as ok, (count(*) filter (where not a.ok))::int as failed
          from (select distinct on (ca.command_id, u.k) ca.command_id, u.k, u.ok
                  from command_answers ca cross join lateral unnest(ca.kiosks, ca.oks) with ordinality as u(k, ok, i)
                 order by ca.command_id, u.k, ca.serial, u.i) a
          join commands t on t.id = a.command_id and a.k = any(t.kiosks)
         group by a.command_id) f
 where c.id = f.command_id;
