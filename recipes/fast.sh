#!/usr/bin/env bash
# Recipe for the Fast (Johnson) models `fast_transformer-keyboard` (shipped) and `fast_transformer-flute` (not
# shipped: after 1000 and 2000 steps it put 76% and 74% of its output's power above 4 kHz; with --style-weight 100
# (30x lower) that falls to 0.5% but it adds a 110 Hz tone to keyboard 65, a 291-cent pitch error): one transformation
# network per style note (the shipped examples keyboard 60 and flute 60), trained over the FluidR3 notes of nine
# families with the shipped audio CNN (`audio_cnn-default`, recipes/classifier.sh) as loss network. Check a model
# with `pytest tests/test_fast.py -k shipped` before committing it.
#   bash recipes/fast.sh [WORK_DIR]        (default WORK_DIR: ./runs)
# About 13.5 minutes per model on 2 CPU cores: 2000 steps of 4 notes at ~0.38 s (measured), plus loading and the
# checkpoints. Deterministic. RESUME=1 continues interrupted runs; STEPS=N changes the step count, STYLES="flute"
# trains only the named styles, and NO_SHIP=1 leaves the package alone (e.g. STEPS=4 NO_SHIP=1 to check the recipe).
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-$repo_root/runs}"
spectrostyle="$repo_root/.venv/bin/spectrostyle"
python="$repo_root/.venv/bin/python"
families=bass,brass,flute,guitar,keyboard,mallet,organ,reed,string
steps="${STEPS:-2000}"

# the classifier recipe's dataset: rendered once, then reused (notes already there are not rendered again)
"$spectrostyle" --threads 2 dataset render --out "$work/fluidr3-classifier" --families "$families" \
  --pitches 36-96 --pitch-step 3 --velocities 50,127 --quiet
for style in ${STYLES:-keyboard flute}; do
  style_wav="$("$python" -c "from spectrostyle.data import example_path; print(example_path('$style', 60))")"
  "$spectrostyle" --threads 2 train fast --style "$style_wav" --data "$work/fluidr3-classifier" \
    --out "$work/fast-$style" --feature-net default --steps "$steps" --batch-size 4 --lr 1e-3 --final-lr 1e-4 \
    --checkpoint-every 100 --seed 0 --quiet ${RESUME:+--resume}
  if [ -z "${NO_SHIP:-}" ]; then
    "$python" "$repo_root/scripts/ship_model.py" "$work/fast-$style/model.json" fast_transformer "$style"
  fi
done
