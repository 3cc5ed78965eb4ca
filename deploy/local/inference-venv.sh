#!/usr/bin/env bash
# Installs Roboflow's Workflows Execution Engine (deploy/inference/requirements.txt, about 7 GB with torch) once per
# machine and links it as .venv-inference, where the services look for it (or set CONVEYOR_INFERENCE_PYTHON).
# The environment lives in $CONVEYOR_ENGINE_CACHE (default ~/.cache/conveyor), named after the requirements' hash,
# so every checkout of the same requirements shares it: a fresh clone links it in a second. Idempotent; safe to run
# from several processes at once.
set -euo pipefail
cd "$(dirname "$0")/../.."
LINK="${1:-.venv-inference}"
LOCK_FILE=deploy/inference/requirements.txt
CACHE="${CONVEYOR_ENGINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/conveyor}"
VENV="$CACHE/engine-$(sha256sum "$LOCK_FILE" | cut -c1-16)"
mkdir -p "$CACHE"
(
  flock 9
  if [ ! -f "$VENV/.complete" ]; then
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps -r "$LOCK_FILE"
    touch "$VENV/.complete"
  fi
) 9>"$CACHE/.install.lock"
if [ "$(readlink "$LINK" 2>/dev/null)" != "$VENV" ]; then
  # an environment of an older engine, installed in place by earlier versions of this script
  [ -L "$LINK" ] || rm -rf "$LINK"
  ln -sfn "$VENV" "$LINK"
fi
echo "Workflows Execution Engine ready: $LINK/bin/python ($("$LINK/bin/python" -c \
  "from importlib.metadata import version; print('roboflow-workflows', version('roboflow-workflows'))"))"
