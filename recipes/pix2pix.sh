#!/usr/bin/env bash
# Makes the shipped pix2pix `pix2pix_generator-flute-keyboard` (flute -> keyboard) from
# configs/pix2pix_generator-flute-keyboard.toml: the notes of the eight flute programs, each paired with the acoustic
# grand piano (keyboard_acoustic_000, GM program 0) note of the same pitch and velocity, rendered from FluidR3 at every
# semitone of 60-96; pitches 69, 81 and 93 are held out of training, to measure quality on (tests/methods/test_pix2pix.py,
# benchmarks/bench_gan.py). Deterministic. About 7.5 minutes on 2 CPU cores (3000 steps at 0.12-0.15 s, rendering
# the notes 10 s). The paper's sizes, for a GPU: CONTRIBUTING.md.
#   bash recipes/pix2pix.sh [WORK_DIR]    (default WORK_DIR: ./runs)
# RESUME=1 continues an interrupted run; STEPS=N changes the step count (default 3000); NO_SHIP=1 leaves the package
# alone (e.g. STEPS=4 NO_SHIP=1 to check the recipe).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"  # repo_root, work, spectrostyle, python, resume, ship
config="$repo_root/configs/pix2pix_generator-flute-keyboard.toml"

# flute and keyboard notes at every semitone: rendered once, then reused (notes already there are not rendered again)
"$spectrostyle" --threads 2 dataset render --config "$config" --out "$work/fluidr3-flute-keyboard-dense"
"$spectrostyle" --threads 2 train pix2pix --config "$config" --data "$work/fluidr3-flute-keyboard-dense" \
  --out "$work/pix2pix-flute-keyboard" ${STEPS:+--steps "$STEPS"} $(resume "$work/pix2pix-flute-keyboard")
ship "$work/pix2pix-flute-keyboard/model.json" pix2pix_generator flute-keyboard
