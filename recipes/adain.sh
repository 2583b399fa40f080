#!/usr/bin/env bash
# Recipe for the shipped AdaIN decoder `adain_decoder-default`: the decoder of the shipped audio CNN's relu4_1
# features (`audio_cnn-default`, recipes/classifier.sh; the decoder records its SHA-256 and fits no other), trained
# on the FluidR3 notes of nine families, each with a random other note as style.
#   bash recipes/adain.sh [WORK_DIR]       (default WORK_DIR: ./runs)
# About 15 minutes on 2 CPU cores: 1700 steps of 4 notes at 0.44-0.51 s (measured), plus loading and checkpoints
# (20.7 min measured on 2026-11-29 with other jobs sharing the cores).
# Deterministic. RESUME=1 continues an interrupted run; STEPS=N changes the step count and NO_SHIP=1 leaves the
# package alone (e.g. STEPS=4 NO_SHIP=1 to check the recipe).
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-$repo_root/runs}"
spectrostyle="$repo_root/.venv/bin/spectrostyle"
families=bass,brass,flute,guitar,keyboard,mallet,organ,reed,string
steps="${STEPS:-1700}"

# the classifier recipe's dataset: rendered once, then reused (notes already there are not rendered again)
"$spectrostyle" --threads 2 dataset render --out "$work/fluidr3-classifier" --families "$families" \
  --pitches 36-96 --pitch-step 3 --velocities 50,127 --quiet
"$spectrostyle" --threads 2 train adain --data "$work/fluidr3-classifier" --out "$work/adain" --encoder default \
  --steps "$steps" --batch-size 4 --lr 1e-3 --final-lr 1e-4 --style-weight 10 --identity-weight 200 \
  --checkpoint-every 100 --seed 0 --quiet ${RESUME:+--resume}
if [ -z "${NO_SHIP:-}" ]; then
  "$repo_root/.venv/bin/python" "$repo_root/scripts/ship_model.py" "$work/adain/model.json" adain_decoder default
fi
