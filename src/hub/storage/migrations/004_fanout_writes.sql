-- Cheaper writes for fan-outs (bench hub: config_fanout_1000_ms, pa_fanout_1000_ms).
--
-- A kiosk row is rewritten all day: presence every 500 ms, every config ack,
-- the lock of a config push. With full pages each new row version goes to
-- another page and every index of the table gets a new entry; with room left
-- on the page the update stays on it (a heap-only tuple) and touches no index.
-- Half-empty pages: the table is small (one row per kiosk). CLUSTER rewrites
-- it so the rows already there get that room too.
alter table kiosks set (fillfactor = 50);
cluster kiosks using kiosks_pkey;

-- A config push inserts one kiosk_configs row per kiosk; each row fired two
-- foreign-key checks (a lookup and a row lock in kiosks and in config_pushes),
-- twice the cost of the insert itself. The rows are made only by
-- HubStorage.pushConfig, in the transaction that inserts the push and holds
-- the kiosk rows locked, joined to those kiosk rows: the references hold by
-- construction. Kiosks are never deleted (they are revoked).
alter table kiosk_configs drop constraint if exists kiosk_configs_kiosk_id_fkey;
alter table kiosk_configs drop constraint if exists kiosk_configs_push_id_fkey;
