-- A batch of answers to one command stored in one statement (bench hub:
-- pa_fanout_10000_ms, pa_fanout_1000_ms). Before, a batch was BEGIN, a
-- lock of the command's row, the insert with its counters, COMMIT: four
-- round trips, the row's lock held across three of them while the answers of
-- the other instance waited for it. The function does the same work in one
-- call: the row's lock is taken first, then (a new snapshot per statement,
-- as the function is volatile) the answers committed before it are read, so
-- a kiosk's first answer still counts once, whichever instance stores it,
-- and a kiosk the command was not sent to not at all. Called on its own it
-- is its own transaction: the lock is held for the statement and its commit.
-- (Statements inside the body share lines: migrations split on a semicolon at a line's end.)
create or replace function command_answers_add(p_id text, p_kiosks text[], p_oks boolean[], p_errors text[]) returns void
language plpgsql volatile as $$
declare n_ok integer; n_failed integer; begin
  perform 1 from commands where id = p_id for no key update; if not found then return; end if; select (count(*) filter (where b.ok))::int, (count(*) filter (where not b.ok))::int into n_ok, n_failed
    from (select distinct on (u.k) u.k, u.ok from unnest(p_kiosks, p_oks) with ordinality as u(k, ok, i) order by u.k, u.i) b
   where b.k in (select unnest(kiosks) from commands where id = p_id)
     and b.k not in (select unnest(kiosks) from command_answers where command_id = p_id); insert into command_answers (command_id, kiosks, oks, errors) values (p_id, p_kiosks, p_oks, p_errors); update commands set answered_ok = answered_ok + n_ok, answered_failed = answered_failed + n_failed where id = p_id; end
$$;
