#!/usr/bin/env bash
# Recipe for the shipped pix2pix `pix2pix_generator-flute-keyboard` (flute -> keyboard): the notes of the eight flute
# programs, each paired with the acoustic grand piano (keyboard_acoustic_000, GM program 0) note of the same pitch and
# velocity, rendered from FluidR3 for this model at every semitone of 60-96 (velocities 50 and 127); pitches 69, 81
# and 93 are held out of training, to measure quality on (tests/test_pix2pix.py, benchmarks/bench_gan.py): the same
# held-out notes as the earlier models, which were trained on the classifier recipe's dataset (pitches in steps of 3).
# Every semitone instead of every third (session 11): 34 training pitches instead of 10, and each held-out pitch has
# trained neighbours a semitone away. Judged by the shipped audio CNN on the held-out flute notes, 3000 steps: 70.6%
# heard as keyboard, none of 34 more than 50 cents off pitch (steps of 3: 41.2%, 2 of 34 off; the real piano notes
# at those pitches: 4 of 6); 6000 steps on the same data 58.8% (0 of 34 off).
# One keyboard program as the target makes every pair exact: with the whole keyboard family (`--domain-b keyboard`,
# the first shipped model) each flute note had eight keyboard partners and the L1 loss pulled the output to their
# blur; measured 2026-11-29 on the held-out flute notes, the first shipped audio CNN heard 50.0% of that model's
# outputs as keyboard, 58.8% of the one-program model's.
# Steps on the classifier recipe's dataset, judged by the second shipped audio CNN (session 7): 1200 steps 8.8% heard
# as keyboard (2 of 34 more than 50 cents off pitch); 3000 steps 41.2% (2 of 34 off); 6000 steps 44.1% but 14 of 34
# off pitch, and its validation L1 rose.
#   bash recipes/pix2pix.sh [WORK_DIR]    (default WORK_DIR: ./runs)
# U-Net widths 16,32,64,64,64; discriminator 16..128 on (A, B) pairs; L1 weight 100; whole notes, one pair per
# step; Adam 2e-4 (beta1 0.5), constant for half the steps then linearly to 0. 7.4 minutes measured on 2 CPU
# cores (2026-11-30: 0.12-0.15 s per step alone; rendering the notes 10 s). Deterministic. RESUME=1 continues
# an interrupted run; STEPS=N changes the step count (default 3000); NO_SHIP=1 leaves the package alone (e.g.
# STEPS=4 NO_SHIP=1 to check the recipe). Full size for a GPU: see the docstring of src/spectrostyle/pix2pix.py.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-$repo_root/runs}"
spectrostyle="$repo_root/.venv/bin/spectrostyle"
steps="${STEPS:-3000}"

# flute and keyboard notes at every semitone: rendered once, then reused (notes already there are not rendered again)
"$spectrostyle" --threads 2 dataset render --out "$work/fluidr3-flute-keyboard-dense" --families flute,keyboard \
  --pitches 60-96 --pitch-step 1 --velocities 50,127 --quiet
"$spectrostyle" --threads 2 train pix2pix --data "$work/fluidr3-flute-keyboard-dense" --domain-a flute \
  --domain-b keyboard_acoustic_000 --pitches 60-96 --velocities 50,127 --hold-out-pitches 69,81,93 \
  --out "$work/pix2pix-flute-keyboard" --steps "$steps" --checkpoint-every 200 --seed 0 --quiet ${RESUME:+--resume}
if [ -z "${NO_SHIP:-}" ]; then
  "$repo_root/.venv/bin/python" "$repo_root/scripts/ship_model.py" "$work/pix2pix-flute-keyboard/model.json" \
    pix2pix_generator flute-keyboard
fi
