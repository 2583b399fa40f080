# What every recipe shares; sourced by recipes/*.sh (`source "$(dirname "${BASH_SOURCE[0]}")/common.sh"`), which
# passes on its own arguments: $1 is the work folder (default ./runs).
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-$repo_root/runs}"
spectrostyle="$repo_root/.venv/bin/spectrostyle"
python="$repo_root/.venv/bin/python"

# --resume with RESUME=1 where the run folder holds a checkpoint (a run not started yet starts: --resume refuses a
# folder without one)
resume() { if [ -n "${RESUME:-}" ] && [ -e "$1/checkpoint.pt" ]; then echo --resume; fi; }

# ship MODEL_JSON KIND NAME: copy a trained model into the package (checked by scripts/ship_model.py), unless NO_SHIP=1
ship() { if [ -z "${NO_SHIP:-}" ]; then "$python" "$repo_root/scripts/ship_model.py" "$@"; fi; }
