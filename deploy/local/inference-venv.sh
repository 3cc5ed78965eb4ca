#!/usr/bin/env bash
# Creates .venv-inference: Roboflow's Workflows Execution Engine for CONVEYOR_WORKFLOW_BACKEND=inference
# (about 1.3 GB, a few minutes). Idempotent. The services find it at .venv-inference/bin/python, or set
# CONVEYOR_INFERENCE_PYTHON to another interpreter that has deploy/inference/requirements.txt installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${1:-.venv-inference}"
MARK="$VENV/.requirements-$(sha256sum deploy/inference/requirements.txt | cut -c1-16)"
if [ -f "$MARK" ]; then
  exit 0
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check -r deploy/inference/requirements.txt
touch "$MARK"
echo "Workflows Execution Engine ready: $VENV/bin/python"
