-- Owned by scheduler_svc: tasks.
-- What a task's worker measured, for estimates to extrapolate from: the bytes of results it wrote, and for videos
-- the seconds of video its files hold and the seconds of them it ran.
ALTER TABLE tasks ADD COLUMN output_bytes bigint;
ALTER TABLE tasks ADD COLUMN media_seconds double precision;
ALTER TABLE tasks ADD COLUMN media_seconds_run double precision;
