#!/usr/bin/env bash
# Makes the shipped Fast (Johnson) models `fast_transformer-keyboard` and `fast_transformer-flute`: one transformation
# network per style note (the shipped examples keyboard 60 and flute 60), trained over the FluidR3 notes of nine
# families with the shipped audio CNN (`audio_cnn-default`) as loss network, in stages, each on from the last:
#   keyboard: configs/fast_transformer-keyboard.toml (4000 steps), -round2.toml (1000, frequency weight 1000),
#             -round3.toml (1000, the loss on the sound heard);
#   flute:    configs/fast_transformer-flute.toml (4000 steps), -round2.toml (1000, content weight 30).
# It rebuilds the flute model bit for bit; the keyboard model it makes differs from the shipped one (BENCHMARKS.md).
# Deterministic on the same machine. About 27 minutes per 4000-step stage on 2 CPU cores and 7-9 per further round.
# Check a model with `pytest tests/methods/test_fast.py -m acceptance` before committing it.
#   bash recipes/fast.sh [WORK_DIR]        (default WORK_DIR: ./runs)
# RESUME=1 continues interrupted runs; STEPS=N changes the step count of the first stage (4000), ROUND_STEPS=N that
# of the further rounds (1000); PRECISION=fp32 trains in float32; STYLES="flute" trains only the named styles of
# keyboard and flute; NO_SHIP=1 leaves the package alone (e.g. STEPS=4 ROUND_STEPS=4 NO_SHIP=1 to check the recipe).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"  # repo_root, work, spectrostyle, python, resume, ship
configs="$repo_root/configs"

# train_fast CONFIG OUT [OPTIONS...]: `train fast` from configs/CONFIG.toml towards "$style_wav" over the recipe's notes
train_fast() {
  local config="$configs/$1.toml" out="$2"
  shift 2
  "$spectrostyle" --threads 2 train fast --config "$config" --style "$style_wav" --data "$work/fluidr3-classifier" \
    --out "$out" ${PRECISION:+--precision "$PRECISION"} $(resume "$out") "$@"
}
for style in ${STYLES:-keyboard flute}; do
  # the classifier recipe's dataset: rendered once, then reused (notes already there are not rendered again)
  "$spectrostyle" --threads 2 dataset render --config "$configs/fast_transformer-$style.toml" \
    --out "$work/fluidr3-classifier"
  style_wav="$("$python" -c "from spectrostyle.data.examples import example_path; print(example_path('$style', 60))")"
  train_fast "fast_transformer-$style" "$work/fast-$style" ${STEPS:+--steps "$STEPS"}
  model="$work/fast-$style/model.json"
  rounds=(${ROUND_STEPS:+--steps "$ROUND_STEPS"})
  case "$style" in  # the further rounds, each on from the last model
    keyboard)
      train_fast fast_transformer-keyboard-round2 "$work/fast-$style-freq" --init "$model" "${rounds[@]}"
      train_fast fast_transformer-keyboard-round3 "$work/fast-$style-heard" --init "$work/fast-$style-freq/model.json" \
        "${rounds[@]}"
      model="$work/fast-$style-heard/model.json"
      ;;
    flute)
      train_fast fast_transformer-flute-round2 "$work/fast-$style-content" --init "$model" "${rounds[@]}"
      model="$work/fast-$style-content/model.json"
      ;;
  esac
  ship "$model" fast_transformer "$style"
done
