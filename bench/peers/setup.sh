#!/usr/bin/env bash
# Creates the peers' environments for bench.throughput (idempotent, a few minutes, about 1.5 GB):
#   .venv-inference  Roboflow inference + inference-cli (the same one the inference workflow backend uses)
#   .venv-ray        Ray Data
set -euo pipefail
cd "$(dirname "$0")/../.."
bash deploy/local/inference-venv.sh
MARK=".venv-ray/.requirements-$(sha256sum bench/peers/requirements-ray.txt | cut -c1-16)"
if [ ! -f "$MARK" ]; then
  python3 -m venv .venv-ray
  .venv-ray/bin/pip install -q --disable-pip-version-check -r bench/peers/requirements-ray.txt
  touch "$MARK"
fi
echo "peers ready: .venv-inference, .venv-ray"
