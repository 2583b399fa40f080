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
# CSOUND=1 adds a third SoundFont, Debian's csound-soundfont (sf_GMbank.sf2, installed by scripts/setup.sh), for the 41
# programs whose sounds are its own (the others are TimGM6mb's samples: mean peak waveform cross-correlation with
# TimGM6mb's rendering >= 0.94 over the up to three rendered pitches nearest MIDI 60, velocity 127; a throwaway
# script, not committed);
# held-out programs stay out of training as before. Session 9: `CSOUND=1 PRECISION=bf16 EPOCHS=11` heard 85.5% of
# the held-out notes in 24.8 min of training (epochs 130-145 s); not shipped yet. SEED=1 also draws other held-out
# programs: that run (whole recipe 31.6 min) heard only 40.8% of its nine (BENCHMARKS.md).
# Session 10, program cross-validation (FOLD=0-3, CSOUND=1 PRECISION=bf16 EPOCHS=11): 85.5, 45.6, 62.0, 58.3%,
# pooled 63.4% over 36 programs; the shipped setting 81.4 and 46.3% on folds 0-1 (BENCHMARKS.md).
# Deterministic: same data, same seed, same weights (on the same machine/torch). RESUME=1 continues an interrupted
# training run with nothing lost; NO_SHIP=1 leaves the package alone; EPOCHS=N (default 14) and SEED=N (default 0).
# FOLD=K (0-7, default 0) holds out the K-th program of each family's seeded order instead (program
# cross-validation: folds 0-7 test every program of the 8-program families once; fold 0 is the shipped split):
# never shipped:  for k in 1 2 3; do FOLD=$k bash recipes/classifier.sh runs/cv-$k; done
#   .venv/bin/python benchmarks/bench_classifier.py --model runs/classifier/model.json --model runs/cv-1/classifier/model.json ...
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-$repo_root/runs}"
spectrostyle="$repo_root/.venv/bin/spectrostyle"
families=bass,brass,flute,guitar,keyboard,mallet,organ,reed,string

# the same notes from every SoundFont
grid=(--families "$families" --pitches 36-96 --pitch-step 3 --velocities 50,127 --quiet)
"$spectrostyle" --threads 2 dataset render --out "$work/fluidr3-classifier" "${grid[@]}"
"$spectrostyle" --threads 2 dataset render --out "$work/timgm-classifier" --soundfont /usr/share/sounds/sf2/TimGM6mb.sf2 \
  "${grid[@]}"
extra=(--extra-data "$work/timgm-classifier")
if [ -n "${CSOUND:-}" ]; then
  "$spectrostyle" --threads 2 dataset render --out "$work/csound-distinct" --soundfont /usr/share/sounds/sf2/sf_GMbank.sf2 \
    "${grid[@]}" --programs 0,1,2,3,10,14,21,22,23,24,25,26,28,29,31,33,37,40,42,44,46,48,49,50,56,60,61,64,65,66,67,68,69,70,72,73,75,76,77,78,79
  extra+=(--extra-data "$work/csound-distinct")
fi
epochs="${EPOCHS:-14}"
"$spectrostyle" --threads 2 train classifier --data "$work/fluidr3-classifier" --out "$work/classifier" "${extra[@]}" \
  --families "$families" --epochs "$epochs" --patience "$epochs" --batch-size 8 --lr 1e-3 --seed "${SEED:-0}" \
  --fold "${FOLD:-0}" --augmentation timbre --precision "${PRECISION:-fp32}" ${RESUME:+--resume}
if [ "${FOLD:-0}" != 0 ]; then
  echo "FOLD=$FOLD: a cross-validation run, not shipped (the shipped network is fold 0's)"
elif [ -z "${NO_SHIP:-}" ]; then
  "$repo_root/.venv/bin/python" "$repo_root/scripts/ship_model.py" "$work/classifier/model.json" audio_cnn default
fi
