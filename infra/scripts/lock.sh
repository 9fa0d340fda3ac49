#!/usr/bin/env bash
# Regenerate requirements/runtime.txt and requirements/test.txt from pyproject.toml, with hashes.
# uv prefers the pins already in an output file, so only what pyproject.toml changed moves.
set -euo pipefail
cd "$(dirname "$0")/../.."
UV=${UV:-}
if [ -z "$UV" ]; then
  [ -x .venv/bin/uv ] || .venv/bin/python -m pip install -q uv
  UV=.venv/bin/uv
fi
common=(--python-version 3.11 --python-platform x86_64-manylinux_2_28 --generate-hashes --no-header --quiet)
"$UV" pip compile pyproject.toml "${common[@]}" -o requirements/runtime.txt
# test.txt holds the runtime lock too, at the same versions (constrained by runtime.txt)
"$UV" pip compile pyproject.toml --extra test --extra dev -c requirements/runtime.txt "${common[@]}" -o requirements/test.txt
echo "lock: requirements/runtime.txt and requirements/test.txt"
