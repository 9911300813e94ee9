#!/usr/bin/env bash
# The GPU measurement of issue 9, in one command, on an NVIDIA GPU machine with python3 + torch +
# transformers + onnx (onnxruntime optional, for the exporter check) and no network:
#
#   bash scripts/gpu/measure.sh            # writes $WORK/gpu-measurements.json (and $OUT/ when set)
#
#   1. exporter check: a tiny random Qwen2.5-VL (make_tiny.py) exported fp16 on CUDA, compared with
#      PyTorch (export.py --check; needs onnxruntime), and the golden folder (golden.py);
#   2. a Qwen2.5-VL-7B-shaped model with random weights (make_tiny.py --preset qwen2.5-vl-7b, bf16)
#      exported by export.py (fp16 decoder and embedding, fp32 vision encoder, external data);
#   3. PyTorch (transformers, SDPA, fp16 and bf16) on those weights: vision encode of two 448x448
#      images, prefill, decode ms/token, one three-question viewpoint estimate; device bandwidth
#      (torch copy) and the decode floor (fp16 decoder bytes / bandwidth)  [scripts/gpu/torch_bench.py];
#   4. our engine on onnxruntime-node CUDA, same tokens and pixels  [scripts/gpu/engine-bench.ts];
#   5. one JSON with both sides and their ratios.
#
# Steps leave stamps in $WORK (default /tmp/actial-gpu): run the same command again after a time
# limit cut it off and it resumes. FORCE=1 redoes every step.
#
# On a GPU machine without Node.js or network, scripts/gpu/device-payload.sh carries both in parts
# (BENCHMARKS.md, GPU measurement, has the sequence of device calls).
#
# Node.js and the onnxruntime CUDA provider (BENCHMARKS.md, GPU): NODE=/path/to/node (default: node
# on PATH) runs scripts/gpu/engine-bench.ts with tsx when node_modules is present; otherwise
# ENGINE_BUNDLE=/path/engine-bench.mjs, made on the dev machine by
#   bash scripts/gpu/measure.sh --bundle DIR
# (esbuild bundle; onnxruntime-node 1.29.0 with `npm run setup:cuda` must be resolvable from it,
# e.g. DIR/node_modules/onnxruntime-node). Without either, step 4 is skipped and said so in the JSON.
#
# Environment: WORK, OUT, NODE, ENGINE_BUNDLE, PYTHON (default python3), TORCH_DTYPES (default
# fp16,bf16), DECODE_TOKENS (32), REPEATS (5), SKIP_TINY=1 (skip step 1), FORCE=1,
# PRESET (make_tiny.py preset of step 2; default qwen2.5-vl-7b), DEVICE (cuda; cpu with PRESET=tiny
# runs every step on the CPU, a smoke test of the script and not a measurement:
#   DEVICE=cpu PRESET=tiny WORK=/tmp/actial-gpu-smoke PYTHON=.venv-export/bin/python bash scripts/gpu/measure.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PYTHON="${PYTHON:-python3}"
NODE="${NODE:-node}"
WORK="${WORK:-/tmp/actial-gpu}"
TORCH_DTYPES="${TORCH_DTYPES:-fp16,bf16}"
DECODE_TOKENS="${DECODE_TOKENS:-32}"
REPEATS="${REPEATS:-5}"
PRESET="${PRESET:-qwen2.5-vl-7b}"
DEVICE="${DEVICE:-cuda}"
export DEVICE

if [[ "${1:-}" == "--bundle" ]]; then
  dir="${2:?usage: measure.sh --bundle DIR}"
  mkdir -p "$dir"
  "$ROOT/node_modules/.bin/esbuild" "$ROOT/scripts/gpu/engine-bench.ts" --bundle --platform=node --format=esm \
    --target=node20 --external:onnxruntime-node --outfile="$dir/engine-bench.mjs" \
    --banner:js="import { createRequire as __actialRequire } from 'node:module'; const require = __actialRequire(import.meta.url);"
  echo "wrote $dir/engine-bench.mjs (put onnxruntime-node 1.29.0 with its CUDA provider in $dir/node_modules)"
  exit 0
fi

mkdir -p "$WORK"
say() { printf 'measure: %s\n' "$*" >&2; }
# One run at a time: a second one (e.g. the engine step once Node has arrived, while a first run
# started in the background still builds and exports) waits here, then skips the stamped steps.
exec 9>"$WORK/.lock"
flock 9
done_step() { [[ -z "${FORCE:-}" && -f "$WORK/$1.done" ]]; }
mark() { touch "$WORK/$1.done"; }

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >"$WORK/nvidia-smi.txt" || true
"$PYTHON" - <<'EOF' || { say "python3 needs torch with CUDA, transformers and onnx"; exit 2; }
import torch, transformers, onnx
import os
if os.environ.get("DEVICE", "cuda") == "cuda":
    assert torch.cuda.is_available(), "torch sees no CUDA device"
device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA device"
print(f"torch {torch.__version__}, transformers {transformers.__version__}, onnx {onnx.__version__}, {device}")
EOF

# 1. Exporter check on a tiny model (fp16 on CUDA vs PyTorch), and the golden folder.
if [[ -z "${SKIP_TINY:-}" ]] && ! done_step tiny; then
  say "1/5 tiny model: export fp16 on $DEVICE and compare with PyTorch"
  "$PYTHON" "$ROOT/tools/export/make_tiny.py" --out "$WORK/hf-tiny" --hidden 64 >/dev/null
  check=()
  "$PYTHON" -c 'import onnxruntime' 2>/dev/null && check=(--check --report "$WORK/tiny_check.json")
  "$PYTHON" "$ROOT/tools/export/export.py" --model "$WORK/hf-tiny" --out "$WORK/onnx-tiny" --dtype fp16 \
    --device "$DEVICE" ${check[@]+"${check[@]}"} >"$WORK/tiny_export.json" || { say "tiny export check FAILED (see $WORK/tiny_check.json)"; }
  "$PYTHON" "$ROOT/tools/export/golden.py" --out "$WORK/golden-qwen2_5_vl-tiny" >"$WORK/golden.json" || say "golden.py failed"
  mark tiny
fi

# 2. 7B-shaped random checkpoint, exported.
if ! done_step hf7b; then
  say "2/5 random $PRESET checkpoint (bf16, built on $DEVICE)"
  "$PYTHON" "$ROOT/tools/export/make_tiny.py" --preset "$PRESET" --device "$DEVICE" --dtype bfloat16 --out "$WORK/hf-7b" >"$WORK/make_7b.json"
  mark hf7b
fi
if ! done_step export7b; then
  say "2/5 export.py: fp16 decoder + embedding, fp32 vision (traced on $DEVICE)"
  start=$SECONDS
  "$PYTHON" "$ROOT/tools/export/export.py" --model "$WORK/hf-7b" --out "$WORK/onnx-7b" --dtype fp16 --device "$DEVICE" >"$WORK/export_7b.json"
  echo "{\"seconds\": $((SECONDS - start))}" >"$WORK/export_7b_time.json"
  mark export7b
fi

# 3. PyTorch side and bandwidth.
if ! done_step torch; then
  say "3/5 PyTorch (transformers, SDPA: $TORCH_DTYPES) and bandwidth"
  "$PYTHON" "$ROOT/scripts/gpu/torch_bench.py" --model "$WORK/hf-7b" --inputs "$WORK/inputs" --out "$WORK/torch.json" \
    --dtypes "$TORCH_DTYPES" --decode-tokens "$DECODE_TOKENS" --repeats "$REPEATS" --device "$DEVICE" >/dev/null
  mark torch
fi

# 4. Our engine on onnxruntime-node CUDA.
if ! done_step engine; then
  say "4/5 our engine (onnxruntime-node, CUDA)"
  args=("$WORK/onnx-7b" "$WORK/inputs" "$WORK/engine.json" --dtype fp16 --decode-tokens "$DECODE_TOKENS" --repeats "$REPEATS")
  [[ "$DEVICE" == cpu ]] && args+=(--allow-cpu)
  # A skipped engine step is not stamped: the same command with NODE / ENGINE_BUNDLE runs it later.
  if ! command -v "$NODE" >/dev/null; then
    echo "{\"skipped\": \"no Node.js ($NODE not found); see BENCHMARKS.md GPU\"}" >"$WORK/engine.json"
  elif [[ -n "${ENGINE_BUNDLE:-}" ]]; then
    "$NODE" "$ENGINE_BUNDLE" "${args[@]}" >/dev/null
    mark engine
  elif [[ -d "$ROOT/node_modules/tsx" ]]; then
    (cd "$ROOT" && "$NODE" --import tsx scripts/gpu/engine-bench.ts "${args[@]}" >/dev/null)
    mark engine
  else
    echo "{\"skipped\": \"no node_modules/tsx and no ENGINE_BUNDLE; see scripts/gpu/device-payload.sh\"}" >"$WORK/engine.json"
  fi
fi

# 5. One JSON.
say "5/5 report"
"$PYTHON" "$ROOT/scripts/gpu/torch_bench.py" --merge "$WORK/gpu-measurements.json" \
  "$WORK/torch.json" "$WORK/engine.json" "$WORK/export_7b_time.json" "$WORK/tiny_check.json" "$WORK/golden.json" >/dev/null
if [[ -n "${OUT:-}" ]]; then
  mkdir -p "$OUT"
  cp "$WORK/gpu-measurements.json" "$OUT/"
  [[ -f "$WORK/golden-qwen2_5_vl-tiny/reference.json" ]] && tar -C "$WORK" -czf "$OUT/golden-qwen2_5_vl-tiny.tgz" golden-qwen2_5_vl-tiny
fi
cat "$WORK/gpu-measurements.json"
