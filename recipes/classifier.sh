#!/usr/bin/env bash
# Recipe for the shipped audio CNN (`audio_cnn-default`): render the dataset from FluidR3_GM, train, ship.
#   bash recipes/classifier.sh [WORK_DIR]        (default WORK_DIR: ./runs)
# The network hears the nine families in FluidR3_GM's notes of 57 GM programs and, for the same training programs
# only, TimGM6mb's (Debian timgm6mb-soundfont, installed by scripts/setup.sh); nine other programs (one per family)
# are held out of both, for the test. Augmentation 'timbre': pitch/tempo resampling, a random equaliser, masks.
# About 38 minutes on 2 CPU cores (14 epochs at ~150-160 s, measured on 2026-11-29), over the 30-minute goal of
# issue 3; fewer epochs lose accuracy (7 epochs: 71.4% held out instead of 81.4%, BENCHMARKS.md).
# PRECISION=bf16 trains under bfloat16 autocast: the whole recipe then took 26.0 min (epochs 103-116 s, session 8),
# within the goal, but that run's network heard only 69.3% of the held-out notes (best validation 0.423 against
# 0.463), so the shipped weights stay the float32 run's (BENCHMARKS.md).
# Deterministic: same data, same seed, same weights (on the same machine/torch). RESUME=1 continues an interrupted
# training run with nothing lost; NO_SHIP=1 leaves the package alone.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-$repo_root/runs}"
spectrostyle="$repo_root/.venv/bin/spectrostyle"
families=bass,brass,flute,guitar,keyboard,mallet,organ,reed,string

"$spectrostyle" --threads 2 dataset render --out "$work/fluidr3-classifier" --families "$families" \
  --pitches 36-96 --pitch-step 3 --velocities 50,127 --quiet
"$spectrostyle" --threads 2 dataset render --out "$work/timgm-classifier" --soundfont /usr/share/sounds/sf2/TimGM6mb.sf2 \
  --families "$families" --pitches 36-96 --pitch-step 3 --velocities 50,127 --quiet
"$spectrostyle" --threads 2 train classifier --data "$work/fluidr3-classifier" --out "$work/classifier" \
  --extra-data "$work/timgm-classifier" --families "$families" --epochs 14 --patience 14 --batch-size 8 --lr 1e-3 \
  --seed 0 --augmentation timbre --precision "${PRECISION:-fp32}" ${RESUME:+--resume}
if [ -z "${NO_SHIP:-}" ]; then
  "$repo_root/.venv/bin/python" "$repo_root/scripts/ship_model.py" "$work/classifier/model.json" audio_cnn default
fi
