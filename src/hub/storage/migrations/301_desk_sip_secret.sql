-- The SIP secret of the session that holds a desk (desk.sip.rpc): what the hub
-- set in the SIP server's users table for it (the HA1 hash in production), so
-- that any hub instance can set it again after the SIP server restarted. Null:
-- none handed out, the desk's account stays locked.
alter table desk_seats add column sip_secret text;
