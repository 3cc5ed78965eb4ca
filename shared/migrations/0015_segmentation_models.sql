-- Owned by scheduler_svc (no table created here). Registered models may be instance segmentation models
-- (YOLOv8/YOLO11-seg: boxes, class scores and mask coefficients, and mask prototypes).
ALTER TABLE models DROP CONSTRAINT models_task_check;
ALTER TABLE models ADD CONSTRAINT models_task_check
    CHECK (task IN ('object-detection', 'instance-segmentation', 'classification', 'multi-label-classification'));
