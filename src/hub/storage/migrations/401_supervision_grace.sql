-- The grace a kiosk reports with each verdict (its supervision.graceS): the
-- overdue rule and availability use the kiosk's own interval and grace, the
-- hub's supervision.graceS only for a kiosk that has not reported one.
alter table supervision_tests add column grace_s integer;
