-- Owned by scheduler_svc. Keypoint detection models (YOLOv8/YOLO11-pose) name their keypoints, in output order.
ALTER TABLE models ADD COLUMN keypoint_names TEXT[] NOT NULL DEFAULT '{}';
ALTER TABLE models DROP CONSTRAINT models_task_check;
ALTER TABLE models ADD CONSTRAINT models_task_check
    CHECK (task IN ('object-detection', 'instance-segmentation', 'keypoint-detection', 'classification',
                    'multi-label-classification'));
