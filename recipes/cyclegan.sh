#!/usr/bin/env bash
# Makes the shipped CycleGAN `cyclegan_generator-flute-keyboard` (a2b = flute -> keyboard, b2a = back) from
# configs/cyclegan_generator-flute-keyboard.toml: unpaired flute and keyboard notes of the classifier recipe's FluidR3
# dataset at pitches 60-96, where both families play; every 4th pitch (69, 81, 93) is held out of training, to
# measure quality on (tests/methods/test_cyclegan.py, benchmarks/bench_gan.py). Deterministic. About 23 minutes on 2 CPU
# cores (2000 steps at about 0.7 s). The paper's sizes, for a GPU: CONTRIBUTING.md.
#   bash recipes/cyclegan.sh [WORK_DIR]    (default WORK_DIR: ./runs)
# RESUME=1 continues an interrupted run; STEPS=N changes the step count (default 2000); NO_SHIP=1 leaves the package
# alone (e.g. STEPS=4 NO_SHIP=1 to check the recipe).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"  # repo_root, work, spectrostyle, python, resume, ship
config="$repo_root/configs/cyclegan_generator-flute-keyboard.toml"

# the classifier recipe's dataset: rendered once, then reused (notes already there are not rendered again)
"$spectrostyle" --threads 2 dataset render --config "$config" --out "$work/fluidr3-classifier"
"$spectrostyle" --threads 2 train cyclegan --config "$config" --data "$work/fluidr3-classifier" \
  --out "$work/cyclegan-flute-keyboard" ${STEPS:+--steps "$STEPS"} $(resume "$work/cyclegan-flute-keyboard")
ship "$work/cyclegan-flute-keyboard/model.json" cyclegan_generator flute-keyboard
