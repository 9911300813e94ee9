#!/usr/bin/env python3
"""Writes the golden folder: a tiny random Qwen2.5-VL exported by export.py, plus PyTorch's outputs.

    python3 tools/export/golden.py [--out models/golden-qwen2_5_vl-tiny] [--hf DIR] [--hidden 16] [--head-dim 8]
                                   [--steps 4] [--seed 0]

1. make_tiny.py writes a tiny random checkpoint (or --hf takes an existing one),
2. export.py exports it (fp32, so that 1e-3 is a fair tolerance) into --out, and runs its --check
   when onnxruntime is installed,
3. transformers runs the fixed two-image prompt of this file: its token ids (expanded), M-RoPE
   positions (get_rope_index), each image's merged features, the logits of the prompt's last
   position and of `--steps - 1` greedy decode steps (recorded at the top-32 ids and 32 spread
   ids, with each row's log-sum-exp) go to <out>/reference.json (format actial-golden/1, see
   src/model/golden.ts). Pixel values are bytes b with value b / 64 - 2, stored as such.

src/model/golden.test.ts then checks that our engine reproduces them within 1e-3 (skipped, with a
warning, while <out>/reference.json does not exist). The folder is about 20 MB at the defaults.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import tempfile
from pathlib import Path
from typing import List, Optional, Sequence

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

import torch  # noqa: E402

import export  # noqa: E402
from onnx_modules import locate_parts  # noqa: E402
from qwen_layout import QWEN_TOKEN_IDS, expand_image_placeholders, mrope_positions, question_prompt  # noqa: E402

GRIDS = ([1, 12, 16], [1, 8, 12])
QUESTION = "Did the camera that took the second photo move to the left or to the right of the first one?"
PIXEL_SCALE = 64.0
PIXEL_OFFSET = -2.0
STOP_TOKENS = {QWEN_TOKEN_IDS["im_end"], QWEN_TOKEN_IDS["endoftext"]}


def golden_images(seed: int) -> List[dict]:
    """Two images of fixed grids, pixel bytes from a seeded generator."""
    generator = torch.Generator().manual_seed(seed)
    images = []
    for grid in GRIDS:
        rows = grid[0] * grid[1] * grid[2]
        raw = torch.randint(0, 256, (rows * 1176,), generator=generator, dtype=torch.int64).to(torch.uint8)
        images.append(
            {
                "grid_thw": list(grid),
                "bytes": raw,
                "pixel_values": (raw.to(torch.float32) / PIXEL_SCALE + PIXEL_OFFSET).view(rows, 1176),
            }
        )
    return images


def f32_base64(values: torch.Tensor) -> str:
    return base64.b64encode(values.detach().to(torch.float32).contiguous().cpu().numpy().astype("<f4").tobytes()).decode()


def recorded_ids(row: torch.Tensor, top: int = 32, spread: int = 32) -> List[int]:
    """The top `top` ids (best first), then `spread` evenly spaced ones (as src/model/golden.ts recordedIds)."""
    order = torch.argsort(row, descending=True)[:top].tolist()
    ids = list(dict.fromkeys(order))
    for i in range(spread):
        k = int((i + 0.5) * row.numel() // spread)
        if k not in ids:
            ids.append(k)
    return ids


def step_record(row: torch.Tensor) -> dict:
    row = row.to(torch.float64)
    ids = recorded_ids(row)
    top2 = torch.topk(row, 2).values
    return {
        "token_ids": ids,
        "logits": [float(row[i]) for i in ids],
        "logsumexp": float(torch.logsumexp(row, 0)),
        "argmax": int(ids[0]),
        "margin": float(top2[0] - top2[1]),
    }


@torch.no_grad()
def build_reference(model, tokenizer_json: Path, dtype: str, steps: int, seed: int, ids: Optional[Sequence[int]] = None) -> dict:
    """PyTorch's outputs on the golden prompt, in the actial-golden/1 format (device: the model's)."""
    device = next(model.parameters()).device
    images = golden_images(seed)
    prompt = question_prompt(QUESTION, len(images))
    if ids is None:
        from tokenizers import Tokenizer

        ids = Tokenizer.from_file(str(tokenizer_json)).encode(prompt, add_special_tokens=False).ids
    grids = [img["grid_thw"] for img in images]
    expanded = expand_image_placeholders(ids, grids, QWEN_TOKEN_IDS["image_pad"])
    ours_rows, ours_delta = mrope_positions(expanded, grids, QWEN_TOKEN_IDS["image_pad"])
    input_ids = torch.tensor([expanded], dtype=torch.int64, device=device)
    grid = torch.tensor(grids, dtype=torch.int64, device=device)
    vision_dtype = next(locate_parts(model).visual.parameters()).dtype
    rope = export.hf_rope_index(model, input_ids, grid)
    if rope is None:
        raise SystemExit("golden: the model has no get_rope_index; cannot record transformers' positions")
    rows = rope[0][:, 0].cpu().tolist()
    delta = int(rope[1].reshape(-1)[0])
    if rows != ours_rows or delta != ours_delta:
        sys.stderr.write("golden: WARNING transformers' M-RoPE positions differ from tools/export/qwen_layout.py\n")

    features = []
    for img in images:
        f = export.hf_image_features(
            model, img["pixel_values"].to(device, vision_dtype), torch.tensor([img["grid_thw"]], device=device)
        )
        features.append({"tokens": int(f.shape[0]), "hidden": int(f.shape[1]), "f32": f32_base64(f)})

    pixel_values = torch.cat([img["pixel_values"] for img in images]).to(device, vision_dtype)
    out = export.hf_prefill(model, input_ids, pixel_values, grid)
    records, generated = [], []
    past, total = out.past_key_values, input_ids.shape[1]
    row = out.logits[0, -1].float().cpu()
    for k in range(steps):
        records.append(step_record(row))
        token = records[-1]["argmax"]
        if token in STOP_TOKENS or k == steps - 1:
            if token not in STOP_TOKENS:
                generated.append(token)
            break
        generated.append(token)
        out = export.hf_continue(model, torch.tensor([[token]], device=device), past, total, delta)
        past, total = out.past_key_values, total + 1
        row = out.logits[0, -1].float().cpu()

    producer = {"torch": torch.__version__, "tool": "tools/export/golden.py", "seed": seed}
    try:
        import transformers

        producer["transformers"] = transformers.__version__
    except ImportError:
        producer["transformers"] = None
    return {
        "format": "actial-golden/1",
        "dtype": dtype,
        "tolerance": {"atol": 1e-3, "rtol": 1e-3},
        "prompt": prompt,
        "images": [
            {"grid_thw": img["grid_thw"], "pixel_values_u8": base64.b64encode(img["bytes"].numpy().tobytes()).decode()}
            for img in images
        ],
        "input_ids": expanded,
        "position_ids": rows,
        "rope_delta": delta,
        "image_features": features,
        "steps": records,
        "generated": generated,
        "producer": producer,
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Golden folder: tiny Qwen2.5-VL, exported, with PyTorch's outputs")
    p.add_argument("--out", default=str(REPO / "models" / "golden-qwen2_5_vl-tiny"))
    p.add_argument("--hf", help="an existing Hugging Face checkpoint to use instead of make_tiny.py's")
    p.add_argument("--hidden", type=int, default=16)
    p.add_argument("--head-dim", type=int, default=8, help="2 query heads on 1 KV head at the defaults")
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-check", action="store_true", help="do not run export.py --check even if onnxruntime is installed")
    args = p.parse_args(argv)
    out = Path(args.out)
    with tempfile.TemporaryDirectory(prefix="actial-golden-") as tmp:
        hf = Path(args.hf) if args.hf else Path(tmp) / "hf"
        if not args.hf:
            import make_tiny

            make_tiny.main(
                ["--out", str(hf), "--hidden", str(args.hidden), "--head-dim", str(args.head_dim), "--seed", str(args.seed)]
            )
        export_args = ["--model", str(hf), "--out", str(out), "--dtype", "fp32", "--device", "cpu"]
        try:
            import onnxruntime  # noqa: F401

            if not args.skip_check:
                export_args.append("--check")
        except ImportError:
            sys.stderr.write("golden: onnxruntime not installed; exporting without --check\n")
        code = export.main(export_args)
        if code != 0:
            sys.stderr.write("golden: export.py --check failed; reference not written\n")
            return code
        model = export.load_model(str(hf), "cpu", "fp32")
        reference = build_reference(model, out / "tokenizer.json", "fp32", args.steps, args.seed)
    (out / "reference.json").write_text(json.dumps(reference) + "\n")
    print(json.dumps({"golden": str(out / "reference.json"), "steps": len(reference["steps"]), "prompt_tokens": len(reference["input_ids"])}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
