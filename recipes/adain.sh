#!/usr/bin/env bash
# Makes the shipped AdaIN decoder `adain_decoder-default` from configs/adain_decoder-default.toml: the decoder of the
# shipped audio CNN's relu4_1 features (`audio_cnn-default`; the decoder records its SHA-256 and fits no other),
# trained on the FluidR3 notes of nine families, each with a random other note as style. Deterministic.
# About 15 minutes on 2 CPU cores (1700 steps of 4 notes at about 0.5 s).
#   bash recipes/adain.sh [WORK_DIR]       (default WORK_DIR: ./runs)
# RESUME=1 continues an interrupted run; STEPS=N changes the step count (default 1700); NO_SHIP=1 leaves the package
# alone (e.g. STEPS=4 NO_SHIP=1 to check the recipe).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"  # repo_root, work, spectrostyle, python, resume, ship
config="$repo_root/configs/adain_decoder-default.toml"

# the classifier recipe's dataset: rendered once, then reused (notes already there are not rendered again)
"$spectrostyle" --threads 2 dataset render --config "$config" --out "$work/fluidr3-classifier"
"$spectrostyle" --threads 2 train adain --config "$config" --data "$work/fluidr3-classifier" --out "$work/adain" \
  ${STEPS:+--steps "$STEPS"} $(resume "$work/adain")
ship "$work/adain/model.json" adain_decoder default
