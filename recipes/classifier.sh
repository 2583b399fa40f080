#!/usr/bin/env bash
# Recipe for the shipped audio CNN (`audio_cnn-default`): render the dataset from FluidR3_GM, train, ship.
#   bash recipes/classifier.sh [WORK_DIR]        (default WORK_DIR: ./runs)
# About 25 minutes on 2 CPU cores. Deterministic: same data, same seed, same weights (on the same machine/torch).
# Candidate for the next default (session 6, not shipped yet: the AdaIN decoder and the Fast model are trained
# against the shipped network and would need retraining): 81.4% on the held-out programs instead of 69.3%, about
# 38 min on 2 cores (see BENCHMARKS.md):
#   spectrostyle dataset render --out runs/timgm-classifier --soundfont /usr/share/sounds/sf2/TimGM6mb.sf2 \
#     --families "$families" --pitches 36-96 --pitch-step 3 --velocities 50,127     (apt: timgm6mb-soundfont)
#   spectrostyle train classifier --data runs/fluidr3-classifier --extra-data runs/timgm-classifier \
#     --out runs/classifier-2fonts-14 --epochs 14 --patience 14 --batch-size 8 --lr 1e-3 --seed 0 --augmentation timbre
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-$repo_root/runs}"
spectrostyle="$repo_root/.venv/bin/spectrostyle"
families=bass,brass,flute,guitar,keyboard,mallet,organ,reed,string

"$spectrostyle" --threads 2 dataset render --out "$work/fluidr3-classifier" --families "$families" \
  --pitches 36-96 --pitch-step 3 --velocities 50,127 --quiet
"$spectrostyle" --threads 2 train classifier --data "$work/fluidr3-classifier" --out "$work/classifier" \
  --families "$families" --epochs 14 --patience 5 --batch-size 8 --lr 1e-3 --seed 0 ${RESUME:+--resume}
"$repo_root/.venv/bin/python" "$repo_root/scripts/ship_model.py" "$work/classifier/model.json" audio_cnn default
