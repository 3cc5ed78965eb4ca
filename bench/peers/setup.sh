#!/usr/bin/env bash
# Creates the peers' environments for bench.throughput (idempotent, a few minutes, about 1.5 GB):
#   .venv-inference-peer  Roboflow inference + inference-cli (bench/peers/requirements-inference.txt)
#   .venv-ray             Ray Data
set -euo pipefail
cd "$(dirname "$0")/../.."
for peer in inference-peer:requirements-inference.txt ray:requirements-ray.txt; do
  venv=".venv-${peer%%:*}"
  requirements="bench/peers/${peer##*:}"
  mark="$venv/.requirements-$(sha256sum "$requirements" | cut -c1-16)"
  if [ ! -f "$mark" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
    touch "$mark"
  fi
done
echo "peers ready: .venv-inference-peer, .venv-ray"
