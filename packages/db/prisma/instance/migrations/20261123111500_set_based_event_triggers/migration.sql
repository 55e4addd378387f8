-- The event triggers of 20261123104500_event_triggers ran once per changed row, with three
-- sub-selects each: a scheduling pass that assigns 1 000 jobs (1 000 job rows + 1 000 device rows)
-- paid ~2 000 plpgsql calls. These statement-level triggers see every changed row at once through
-- transition tables and write all of a statement's events with one INSERT … SELECT (same topics,
-- same fields, same order by id), so the cost follows statements, not rows.
-- PostgreSQL forbids transition tables on column-specific triggers ("UPDATE OF state, health"), so
-- they fire on every UPDATE and keep only rows whose state or health changed.

DROP TRIGGER test_jobs_event ON test_jobs;
DROP TRIGGER devices_event ON devices;
DROP TRIGGER workers_event ON workers;
DROP FUNCTION magma_event_testjob();
DROP FUNCTION magma_event_device();
DROP FUNCTION magma_event_worker();

CREATE FUNCTION magma_events_testjob() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO events (topic, data)
  SELECT 'org.lavasoftware.testjob', jsonb_strip_nulls(jsonb_build_object(
      'health', n.health::text,
      'state', n.state::text,
      'job', n.id,
      'description', n.description,
      'priority', n.priority,
      'submit_time', magma_iso(n.submit_time),
      'start_time', magma_iso(n.start_time),
      'end_time', magma_iso(n.end_time),
      'submitter', u.username,
      'health_check', n.health_check,
      'device_type', dt.name,
      'device', d.hostname,
      'worker', w.hostname
    ))::json
  FROM magma_new_rows n
  LEFT JOIN users u ON u.id = n.submitter_id
  LEFT JOIN device_types dt ON dt.id = n.requested_device_type_id
  LEFT JOIN devices d ON d.id = n.actual_device_id
  LEFT JOIN workers w ON w.id = d.worker_id
  ORDER BY n.id;
  RETURN NULL;
END $$;

CREATE FUNCTION magma_events_testjob_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO events (topic, data)
  SELECT 'org.lavasoftware.testjob', jsonb_strip_nulls(jsonb_build_object(
      'health', n.health::text,
      'state', n.state::text,
      'job', n.id,
      'description', n.description,
      'priority', n.priority,
      'submit_time', magma_iso(n.submit_time),
      'start_time', magma_iso(n.start_time),
      'end_time', magma_iso(n.end_time),
      'submitter', u.username,
      'health_check', n.health_check,
      'device_type', dt.name,
      'device', d.hostname,
      'worker', w.hostname
    ))::json
  FROM magma_new_rows n
  JOIN magma_old_rows o ON o.id = n.id
  LEFT JOIN users u ON u.id = n.submitter_id
  LEFT JOIN device_types dt ON dt.id = n.requested_device_type_id
  LEFT JOIN devices d ON d.id = n.actual_device_id
  LEFT JOIN workers w ON w.id = d.worker_id
  WHERE n.state IS DISTINCT FROM o.state OR n.health IS DISTINCT FROM o.health
  ORDER BY n.id;
  RETURN NULL;
END $$;

CREATE TRIGGER test_jobs_event_insert AFTER INSERT ON test_jobs
  REFERENCING NEW TABLE AS magma_new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION magma_events_testjob();
CREATE TRIGGER test_jobs_event_update AFTER UPDATE ON test_jobs
  REFERENCING OLD TABLE AS magma_old_rows NEW TABLE AS magma_new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION magma_events_testjob_update();

CREATE FUNCTION magma_events_device_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO events (topic, data)
  SELECT 'org.lavasoftware.device', jsonb_strip_nulls(jsonb_build_object(
      'health', n.health::text,
      'state', n.state::text,
      'device', n.hostname,
      'device_type', dt.name,
      'worker', w.hostname,
      'job', COALESCE(n.current_job_id, o.current_job_id)
    ))::json
  FROM magma_new_rows n
  JOIN magma_old_rows o ON o.id = n.id
  LEFT JOIN device_types dt ON dt.id = n.device_type_id
  LEFT JOIN workers w ON w.id = n.worker_id
  WHERE n.state IS DISTINCT FROM o.state OR n.health IS DISTINCT FROM o.health
  ORDER BY n.id;
  RETURN NULL;
END $$;

CREATE TRIGGER devices_event AFTER UPDATE ON devices
  REFERENCING OLD TABLE AS magma_old_rows NEW TABLE AS magma_new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION magma_events_device_update();

CREATE FUNCTION magma_events_worker_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO events (topic, data)
  SELECT 'org.lavasoftware.worker', json_build_object(
      'hostname', n.hostname,
      'health', n.health::text,
      'state', n.state::text
    )
  FROM magma_new_rows n
  JOIN magma_old_rows o ON o.id = n.id
  WHERE n.state IS DISTINCT FROM o.state OR n.health IS DISTINCT FROM o.health
  ORDER BY n.id;
  RETURN NULL;
END $$;

CREATE TRIGGER workers_event AFTER UPDATE ON workers
  REFERENCING OLD TABLE AS magma_old_rows NEW TABLE AS magma_new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION magma_events_worker_update();
