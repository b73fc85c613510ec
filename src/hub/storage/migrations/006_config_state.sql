-- Each kiosk's config state on its own row: the status of its newest config
-- version that is not superseded ('pending', 'acked' or 'refused'; null: no
-- version yet). HubStorage.pushConfig sets 'pending' on the kiosk rows it
-- locks anyway, configResults sets the answer on the rows whose config version
-- it raises anyway; the consoles' "how many acknowledged" (configStatus) then
-- counts one column of the zone's kiosks instead of looking up each kiosk's
-- newest version (bench hub: config_fanout_1000_ms).
alter table kiosks add column config_state text;

update kiosks k set config_state = c.status
  from (select distinct on (kiosk_id) kiosk_id, status from kiosk_configs where status <> 'superseded' order by kiosk_id, version desc) c
 where c.kiosk_id = k.id;
