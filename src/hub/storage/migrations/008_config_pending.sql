-- Each kiosk's pending config version on its own row (bench hub: config_fanout_1000_ms).
--
-- Acks looked their version rows up through the partial index on pending
-- versions. That index keeps an entry for every row that was ever pending
-- until a vacuum (which PGlite does not run on its own), and without fresh
-- statistics the planner read every pending row of every kiosk for each
-- batch of 60 acks: most of the ack path's time. With the pending version
-- on the kiosk row (null: none) an ack finds its version row by primary key,
-- and reading the pending versions of a set of kiosks starts from the kiosk
-- rows. A kiosk has at most one pending version (a push supersedes the older
-- ones); HubStorage.pushConfig and configResults keep the column.
alter table kiosks add column config_pending integer;

update kiosk_configs c set status = 'superseded'
 where c.status = 'pending' and c.version < (select max(o.version) from kiosk_configs o where o.kiosk_id = c.kiosk_id and o.status = 'pending');

update kiosks k set config_pending = c.version
  from kiosk_configs c where c.kiosk_id = k.id and c.status = 'pending';

drop index if exists kiosk_configs_pending;
