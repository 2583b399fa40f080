#!/usr/bin/env bash
# Makes the shipped audio CNN `audio_cnn-default` from configs/audio_cnn-default.toml: the network hears the nine
# families in FluidR3_GM's notes of 57 GM programs and, for the same training programs only, TimGM6mb's (Debian
# timgm6mb-soundfont, installed by scripts/setup.sh); nine other programs (one per family) are held out of both, for
# the test. Deterministic on the same machine and torch. About 38 minutes on 2 CPU cores (14 epochs of 150-160 s).
#   bash recipes/classifier.sh [WORK_DIR]        (default WORK_DIR: ./runs)
# RESUME=1 continues an interrupted run; NO_SHIP=1 leaves the package alone; EPOCHS=N (default 14, also the
# patience), SEED=N (default 0) and PRECISION=bf16 (bfloat16 autocast) change the training. CSOUND=1 adds a third
# SoundFont, Debian's csound-soundfont (installed by scripts/setup.sh), for the 41 programs whose sounds are its own.
# FOLD=K (0-7, default 0) holds out the K-th program of each family's seeded order instead (program cross-validation;
# fold 0 is the shipped split, other folds are never shipped):
#   for k in 1 2 3; do FOLD=$k bash recipes/classifier.sh runs/cv-$k; done
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"  # repo_root, work, spectrostyle, python, resume, ship
config="$repo_root/configs/audio_cnn-default.toml"

# the same notes (the config's [dataset]) from every SoundFont
"$spectrostyle" --threads 2 dataset render --config "$config" --out "$work/fluidr3-classifier"
"$spectrostyle" --threads 2 dataset render --config "$config" --out "$work/timgm-classifier" \
  --soundfont /usr/share/sounds/sf2/TimGM6mb.sf2
extra=(--extra-data "$work/timgm-classifier")
if [ -n "${CSOUND:-}" ]; then
  # the programs whose csound-soundfont sounds are its own (the others are TimGM6mb's samples)
  "$spectrostyle" --threads 2 dataset render --config "$config" --out "$work/csound-distinct" \
    --soundfont /usr/share/sounds/sf2/sf_GMbank.sf2 \
    --programs 0,1,2,3,10,14,21,22,23,24,25,26,28,29,31,33,37,40,42,44,46,48,49,50,56,60,61,64,65,66,67,68,69,70,72,73,75,76,77,78,79
  extra+=(--extra-data "$work/csound-distinct")
fi
"$spectrostyle" --threads 2 train classifier --config "$config" --data "$work/fluidr3-classifier" \
  --out "$work/classifier" "${extra[@]}" ${EPOCHS:+--epochs "$EPOCHS" --patience "$EPOCHS"} ${SEED:+--seed "$SEED"} \
  ${FOLD:+--fold "$FOLD"} ${PRECISION:+--precision "$PRECISION"} $(resume "$work/classifier")
if [ "${FOLD:-0}" != 0 ]; then
  echo "FOLD=$FOLD: a cross-validation run, not shipped (the shipped network is fold 0's)"
else
  ship "$work/classifier/model.json" audio_cnn default
fi
