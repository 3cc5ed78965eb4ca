-- Owned by scheduler_svc. Keypoint detection models (YOLOv8/YOLO11-pose) name their keypoints, in output order.
ALTER TABLE models ADD COLUMN keypoint_names TEXT[] NOT NULL DEFAULT '{}';
