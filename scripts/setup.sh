#!/usr/bin/env bash
# Set up spectrostyle on a Debian machine: system packages when missing, then .venv in the repo root.
#   bash scripts/setup.sh          runtime + web app
#   bash scripts/setup.sh --dev    also the test tools (pytest, hypothesis, ruff, playwright, chromium)
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

want_dev=0
for arg in "$@"; do
  case "$arg" in
    --dev) want_dev=1 ;;
    *) echo "setup.sh: unknown option '$arg' (use --dev)" >&2; exit 2 ;;
  esac
done

# timgm6mb-soundfont (6 MB) and csound-soundfont (4 MB): the second and third SoundFonts that recipes/classifier.sh
# renders the training programs from
system_packages=(libfluidsynth3 fluid-soundfont-gm timgm6mb-soundfont csound-soundfont libsndfile1)
# the browser test drives Debian's Chromium (/usr/bin/chromium) headless; Playwright never downloads a browser
if [ "$want_dev" -eq 1 ]; then system_packages+=(chromium); fi
source scripts/apt_packages.sh
install_missing setup "${system_packages[@]}"

python_bin="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$python_bin" -m venv .venv
fi
extras="app"
[ "$want_dev" -eq 1 ] && extras="app,dev"
# torch is pinned in pyproject.toml (torch==2.13.0, a CPU build): an unpinned torch pulls a CUDA build of GBs.
stamp=".venv/.spectrostyle-installed-$extras"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing spectrostyle[$extras] into .venv"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e ".[$extras]"
  touch "$stamp"
fi
echo "setup: ready (.venv/bin/spectrostyle)"
