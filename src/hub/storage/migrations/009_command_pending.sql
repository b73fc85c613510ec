-- Which kiosks a command still waits for, one row each (bench hub:
-- pa_fanout_10000_ms).
--
-- command_answers_add (migration 007) checked every batch of answers against
-- the command's whole kiosks array (10,000 ids for a zone PA, unnested for each
-- batch) and against every batch stored before it: the cost of a batch grew
-- with the command and with the answers already in, quadratic over a fan-out.
-- Now HubStorage.createCommand puts one row per kiosk here in the statement
-- that stores the command, and a batch deletes the rows of its kiosks: the
-- deleted rows are exactly the answers that count (the command was sent to
-- that kiosk, and this is its first answer), found by primary key, at a cost
-- that follows the batch. Two instances storing answers of one kiosk at once
-- both try to delete its row; one deletes it and counts the answer, the other
-- waits for that commit, finds the row gone and counts nothing. Its answers
-- batch is inserted after its delete, so the answer that counted also has the
-- lower serial (readers of command_answers take the lowest: getCommand).
--
-- No foreign key to commands: the rows are made only with their command, in
-- the same statement, and commands are never deleted; a check per row would
-- cost as much as the insert itself (as kiosk_configs, migration 004).
create table command_pending (
  command_id text not null,
  kiosk text not null,
  primary key (command_id, kiosk)
);

insert into command_pending (command_id, kiosk)
  select c.id, t.k from commands c cross join lateral unnest(c.kiosks) as t(k)
  except
  select ca.command_id, u.k from command_answers ca cross join lateral unnest(ca.kiosks) as u(k);

-- (Statements inside the body share lines: migrations split on a semicolon at a line's end.)
create or replace function command_answers_add(p_id text, p_kiosks text[], p_oks boolean[], p_errors text[]) returns void
language plpgsql volatile as $$
declare n_ok integer; n_failed integer; begin
  perform 1 from commands where id = p_id; if not found then return; end if; with gone as (delete from command_pending where command_id = p_id and kiosk = any(p_kiosks) returning kiosk)
  select (count(*) filter (where b.ok))::int, (count(*) filter (where not b.ok))::int into n_ok, n_failed
    from gone join (select distinct on (u.k) u.k, u.ok from unnest(p_kiosks, p_oks) with ordinality as u(k, ok, i) order by u.k, u.i) b on b.k = gone.kiosk; insert into command_answers (command_id, kiosks, oks, errors) values (p_id, p_kiosks, p_oks, p_errors); if n_ok + n_failed > 0 then update commands set answered_ok = answered_ok + n_ok, answered_failed = answered_failed + n_failed where id = p_id; end if; end
$$;
