#!/usr/bin/env bash
# Set up (with the test tools) and run the whole test suite: lint, then pytest.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
bash scripts/setup.sh --dev
.venv/bin/ruff check src tests benchmarks scripts
exec .venv/bin/python -m pytest "$@"
