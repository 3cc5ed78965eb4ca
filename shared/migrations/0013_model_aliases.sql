-- Owned by scheduler_svc: model_aliases.
-- A workspace maps the model ids of workflows copied from Roboflow (``yolov8n-640``, ``project/3``) to models
-- registered here, so such a workflow runs without editing. A registered model of the same id wins.
CREATE TABLE model_aliases (
    workspace_id  uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    alias         text NOT NULL,
    model_id      text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, alias)
);
