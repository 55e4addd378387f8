-- LAVA's event stream, made durable: every state/health change of a job, device or worker appends one
-- row to "events" in the same transaction as the change (whatever code path made it: REST, XML-RPC,
-- scheduler, worker API), with LAVA's topic and fields (org.lavasoftware.testjob|device|worker).
-- Written by hand: Prisma's schema cannot express triggers; `migrate drift` ignores them.

CREATE FUNCTION magma_iso(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')
$$;

CREATE FUNCTION magma_event_testjob() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.state = OLD.state AND NEW.health = OLD.health THEN
    RETURN NEW;
  END IF;
  INSERT INTO events (topic, data) VALUES ('org.lavasoftware.testjob', jsonb_strip_nulls(jsonb_build_object(
    'health', NEW.health::text,
    'state', NEW.state::text,
    'job', NEW.id,
    'description', NEW.description,
    'priority', NEW.priority,
    'submit_time', magma_iso(NEW.submit_time),
    'start_time', magma_iso(NEW.start_time),
    'end_time', magma_iso(NEW.end_time),
    'submitter', (SELECT username FROM users WHERE id = NEW.submitter_id),
    'health_check', NEW.health_check,
    'device_type', (SELECT name FROM device_types WHERE id = NEW.requested_device_type_id),
    'device', (SELECT hostname FROM devices WHERE id = NEW.actual_device_id),
    'worker', (SELECT w.hostname FROM devices d JOIN workers w ON w.id = d.worker_id WHERE d.id = NEW.actual_device_id)
  ))::json);
  RETURN NEW;
END $$;

CREATE TRIGGER test_jobs_event AFTER INSERT OR UPDATE OF state, health ON test_jobs
  FOR EACH ROW EXECUTE FUNCTION magma_event_testjob();

CREATE FUNCTION magma_event_device() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.state = OLD.state AND NEW.health = OLD.health THEN
    RETURN NEW;
  END IF;
  INSERT INTO events (topic, data) VALUES ('org.lavasoftware.device', jsonb_strip_nulls(jsonb_build_object(
    'health', NEW.health::text,
    'state', NEW.state::text,
    'device', NEW.hostname,
    'device_type', (SELECT name FROM device_types WHERE id = NEW.device_type_id),
    'worker', (SELECT hostname FROM workers WHERE id = NEW.worker_id),
    'job', COALESCE(NEW.current_job_id, OLD.current_job_id)
  ))::json);
  RETURN NEW;
END $$;

CREATE TRIGGER devices_event AFTER UPDATE OF state, health ON devices
  FOR EACH ROW EXECUTE FUNCTION magma_event_device();

CREATE FUNCTION magma_event_worker() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.state = OLD.state AND NEW.health = OLD.health THEN
    RETURN NEW;
  END IF;
  INSERT INTO events (topic, data) VALUES ('org.lavasoftware.worker', json_build_object(
    'hostname', NEW.hostname,
    'health', NEW.health::text,
    'state', NEW.state::text
  ));
  RETURN NEW;
END $$;

CREATE TRIGGER workers_event AFTER UPDATE OF state, health ON workers
  FOR EACH ROW EXECUTE FUNCTION magma_event_worker();
