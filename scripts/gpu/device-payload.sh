#!/usr/bin/env bash
# Carries Node.js and onnxruntime-node with its CUDA provider to a GPU machine that has neither and
# cannot download them, in parts small enough for a transfer limit, for scripts/gpu/measure.sh.
#
# On the dev machine (npm registry reachable, or --from a provider .tgz/folder):
#   bash scripts/gpu/device-payload.sh pack [--part-mb 24] [--from TGZ|DIR] [--out .device-carry]
#     stage: node (this machine's binary), engine-bench.mjs (measure.sh --bundle), node_modules/
#     onnxruntime-node + onnxruntime-common with libonnxruntime_providers_{shared,cuda}.so (ORT 1.29.0,
#     CUDA 13, from the npm package of `npm run setup:cuda`); one tar.xz stream split into parts,
#     and payload.manifest (part count and the stream's sha256).
#
# On the GPU machine, once per part, in any order, over as many calls as the limit needs:
#   bash scripts/gpu/device-payload.sh receive .device-carry/payload.part.NN .device-carry/payload.manifest
#     keeps the part in $PAYLOAD_DIR (default /tmp/actial-payload); when every part is there and the
#     sha256 matches, unpacks into $RUNTIME_DIR (default /tmp/actial-runtime) and prints the variables
#     for measure.sh:
#   NODE=/tmp/actial-runtime/node ENGINE_BUNDLE=/tmp/actial-runtime/engine-bench.mjs bash scripts/gpu/measure.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PROVIDER_PACKAGE='com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9'
PROVIDERS=(libonnxruntime_providers_shared.so libonnxruntime_providers_cuda.so)
say() { printf 'device-payload: %s\n' "$*" >&2; }

pack() {
  local out="$ROOT/.device-carry" part_mb=24 from=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --out) out="$2"; shift 2 ;;
      --part-mb) part_mb="$2"; shift 2 ;;
      --from) from="$2"; shift 2 ;;
      *) say "unknown option $1"; exit 2 ;;
    esac
  done
  [[ "$part_mb" =~ ^[1-9][0-9]*$ ]] || { say "--part-mb must be a positive integer, got '$part_mb'"; exit 2; }
  local ort="$ROOT/node_modules/onnxruntime-node"
  [[ -d "$ort" && -d "$ROOT/node_modules/onnxruntime-common" ]] || { say "run npm ci first ($ort missing)"; exit 2; }
  rm -rf "$out" && mkdir -p "$out/stage/node_modules"
  local stage="$out/stage"
  cp "$(command -v node)" "$stage/node"
  bash "$ROOT/scripts/gpu/measure.sh" --bundle "$stage" >/dev/null
  cp -r "$ort" "$ROOT/node_modules/onnxruntime-common" "$stage/node_modules/"
  # Only linux-x64 runs there; the other platforms' runtimes are 240 MB.
  local napi="$stage/node_modules/onnxruntime-node/bin/napi-v6"
  find "$napi" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} +
  find "$napi/linux" -mindepth 1 -maxdepth 1 ! -name x64 -exec rm -rf {} +
  local bin="$napi/linux/x64"
  local src="$out/provider"
  mkdir -p "$src"
  if [[ -z "$from" ]]; then
    say "fetching $PROVIDER_PACKAGE from the npm registry"
    from="$(cd "$out" && npm pack "$PROVIDER_PACKAGE" --silent | tail -1)"
    from="$out/$from"
  fi
  if [[ -d "$from" ]]; then
    for f in "${PROVIDERS[@]}"; do cp "$(find "$from" -name "$f" -print -quit)" "$src/"; done
  else
    tar -xzf "$from" -C "$src"
    for f in "${PROVIDERS[@]}"; do mv "$(find "$src" -name "$f" -print -quit)" "$src/$f"; done
  fi
  for f in "${PROVIDERS[@]}"; do
    [[ -s "$src/$f" ]] || { say "$f not found in $from"; exit 2; }
    cp "$src/$f" "$bin/"
  done
  rm -rf "$src" "$out"/*.tgz
  say "compressing $(du -sm "$stage" | cut -f1) MB (xz, a few minutes)"
  tar -C "$stage" -cf - . | xz -T0 -6 | split -b "${part_mb}M" -d -a 2 - "$out/payload.part."
  rm -rf "$stage"
  local parts sha
  parts=$(ls "$out"/payload.part.* | wc -l)
  sha=$(cat "$out"/payload.part.* | sha256sum | cut -d' ' -f1)
  printf 'parts=%s\nsha256=%s\n' "$parts" "$sha" >"$out/payload.manifest"
  say "wrote $parts parts of at most $part_mb MB and payload.manifest in $out"
  # Each device call carries the working tree (tracked and untracked-not-ignored files) plus one part.
  local tree_mb
  tree_mb=$(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
  tree_mb=$((tree_mb / 1048576))
  say "working tree $tree_mb MiB + a part $part_mb MiB = $((tree_mb + part_mb)) MiB a call (the device limit is 64 MiB)"
  if ((tree_mb + part_mb > 62)); then say "WARNING: over the limit with margin; pack again with --part-mb $((62 - tree_mb))"; fi
  for p in "$out"/payload.part.*; do
    local rel="${p#"$ROOT"/}"
    printf 'run: bash scripts/gpu/device-payload.sh receive %s %s   (carry %s and %s)\n' \
      "$rel" "${out#"$ROOT"/}/payload.manifest" "$rel" "${out#"$ROOT"/}/payload.manifest"
  done
}

receive() {
  local part="${1:?usage: device-payload.sh receive PART MANIFEST}" manifest="${2:?usage: device-payload.sh receive PART MANIFEST}"
  local dir="${PAYLOAD_DIR:-/tmp/actial-payload}" runtime="${RUNTIME_DIR:-/tmp/actial-runtime}"
  [[ -f "$part" ]] || { say "part $part does not exist"; exit 2; }
  local parts sha
  parts=$(sed -n 's/^parts=//p' "$manifest")
  sha=$(sed -n 's/^sha256=//p' "$manifest")
  [[ "$parts" =~ ^[0-9]+$ && -n "$sha" ]] || { say "manifest $manifest is not one pack wrote"; exit 2; }
  mkdir -p "$dir"
  cp "$part" "$dir/"
  local have
  have=$(ls "$dir"/payload.part.* 2>/dev/null | wc -l)
  if [[ "$have" -lt "$parts" ]]; then
    say "have $have of $parts parts in $dir"
    return 0
  fi
  local got
  got=$(cat "$dir"/payload.part.* | sha256sum | cut -d' ' -f1)
  [[ "$got" == "$sha" ]] || { say "sha256 $got of the $parts parts is not the manifest's $sha"; exit 3; }
  rm -rf "$runtime" && mkdir -p "$runtime"
  cat "$dir"/payload.part.* | xz -d | tar -x -C "$runtime"
  say "complete: $runtime"
  printf 'NODE=%s/node ENGINE_BUNDLE=%s/engine-bench.mjs bash scripts/gpu/measure.sh\n' "$runtime" "$runtime"
}

case "${1:-}" in
  pack) shift; pack "$@" ;;
  receive) shift; receive "$@" ;;
  *) say "usage: device-payload.sh pack [--part-mb N] [--from TGZ|DIR] [--out DIR] | receive PART MANIFEST"; exit 2 ;;
esac
