-- Owned by scheduler_svc (no table created here). Registered models may be multi-label classifiers (one score
-- per class, each class predicted on its own), besides detectors and single-label classifiers.
ALTER TABLE models DROP CONSTRAINT models_task_check;
ALTER TABLE models ADD CONSTRAINT models_task_check
    CHECK (task IN ('object-detection', 'classification', 'multi-label-classification'));
