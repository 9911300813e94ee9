#!/usr/bin/env python3
"""PyTorch (transformers, SDPA) side of the GPU measurement, and the bandwidth floor.

    python3 scripts/gpu/torch_bench.py --model HF_DIR --inputs DIR --out torch.json
        [--dtypes fp16,bf16] [--decode-tokens 32] [--generate-tokens 2] [--repeats 5] [--image-size 448]
        [--device cuda|cpu]
    python3 scripts/gpu/torch_bench.py --merge OUT.json PART.json ...

Writes DIR/inputs.json and DIR/image{0,1}.f32 (the two images' pixel_values, float32 LE), which
scripts/gpu/engine-bench.ts reads so that both sides run the same tokens and pixels. Measures,
per dtype, on the checkpoint's weights: vision encode of the two images, prefill of the first
viewpoint prompt (image features given), decode ms/token (single-token steps continuing the
cache), and one three-question viewpoint estimate end to end (vision once, then one forward per
question, softmax over the option letters A/B/C), next to the way a transformers user answers the
three questions: `generate` on each (images, prompt; greedy, --generate-tokens new tokens: the
letter and the end token by default, the shortest answer a model can give). Also measures device
memory bandwidth with a torch copy and gives the decode floor: bytes of fp16 weights read per token
/ bandwidth. `--device cpu` runs the same on the CPU (a smoke test of the whole measurement).
Run by scripts/gpu/measure.sh.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(REPO / "tools" / "export"))

QUESTIONS = [
    "The object captured in these two photos did not move. From the camera's perspective, did the position of the camera that captured the second photo move relative to the first photo's camera position? A: Move to the left B: Move to the right C: No movement Select the correct option, please output only the option letter!",
    "The object captured in these two photos did not move. From the object's perspective, did the position of the camera that captured the second photo move relative to the first photo's camera position? A: Move to the right B: No movement C: Move to the left Select the correct option, please output only the option letter!",
    "The object captured in these two photos did not move. From the camera's perspective, did the orientation of the camera that captured the second photo rotate relative to the first photo's camera orientation? A: No rotation B: Rotate to the right C: Rotate to the left Select the correct option, please output only the option letter!",
]
CHOICES = ["A", "B", "C"]


_LOGITS_TO_KEEP = {"supported": True}


def forward(model, **kwargs):
    """model(**kwargs) with logits_to_keep=1 where this transformers version takes it."""
    if _LOGITS_TO_KEEP["supported"]:
        try:
            return model(**kwargs, logits_to_keep=1)
        except TypeError:
            _LOGITS_TO_KEEP["supported"] = False
    return model(**kwargs)


DEVICE = {"name": "cuda"}


def sync():
    import torch

    if DEVICE["name"] == "cuda":
        torch.cuda.synchronize()


def timed(fn, repeats: int):
    """Median wall ms of `repeats` calls after one warm-up call; returns (ms, last result)."""
    result = fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        sync()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def bandwidth_gbs(gib: float = 2.0, repeats: int = 20) -> dict:
    """Device-to-device copy bandwidth (read + write bytes / time), GB/s."""
    import torch

    n = int(gib * (1 << 30))
    a = torch.empty(n, dtype=torch.uint8, device=DEVICE["name"])
    b = torch.empty_like(a)
    b.copy_(a)
    sync()
    start = time.perf_counter()
    for _ in range(repeats):
        b.copy_(a)
    sync()
    seconds = time.perf_counter() - start
    del a, b
    if DEVICE["name"] == "cuda":
        torch.cuda.empty_cache()
    return {"bytes_per_copy": n, "copies": repeats, "gb_per_s": 2 * n * repeats / seconds / 1e9}


def make_inputs(model_dir: Path, out_dir: Path, image_size: int, seed: int) -> dict:
    """Two random images of image_size^2 pixels, the three viewpoint prompts, tokenized and expanded."""
    import torch
    from tokenizers import Tokenizer

    from qwen_layout import QWEN_TOKEN_IDS, expand_image_placeholders, mrope_positions, question_prompt

    side = image_size // 14
    grid = [1, side, side]
    generator = torch.Generator().manual_seed(seed)
    images = []
    out_dir.mkdir(parents=True, exist_ok=True)
    for i in range(2):
        pixels = torch.rand(side * side, 1176, generator=generator) * 4 - 2
        path = out_dir / f"image{i}.f32"
        path.write_bytes(pixels.numpy().astype("<f4").tobytes())
        images.append({"grid_thw": grid, "file": path.name, "pixel_values": pixels})
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    grids = [grid, grid]
    prompts = []
    for question in QUESTIONS:
        prompt = question_prompt(question, 2)
        ids = expand_image_placeholders(
            tokenizer.encode(prompt, add_special_tokens=False).ids, grids, QWEN_TOKEN_IDS["image_pad"]
        )
        rows, delta = mrope_positions(ids, grids, QWEN_TOKEN_IDS["image_pad"])
        prompts.append({"question": question, "prompt": prompt, "ids": ids, "position_ids": rows, "rope_delta": delta})
    choice_ids = [tokenizer.encode(c, add_special_tokens=False).ids[0] for c in CHOICES]
    spec = {
        "images": [{"grid_thw": img["grid_thw"], "file": img["file"]} for img in images],
        "questions": prompts,
        "choices": CHOICES,
        "choice_ids": choice_ids,
    }
    (out_dir / "inputs.json").write_text(json.dumps(spec) + "\n")
    spec["pixel_tensors"] = [img["pixel_values"] for img in images]
    return spec


def decoder_weight_bytes(model, bytes_per_param: int = 2) -> int:
    """Bytes of the weights one decode step reads: decoder layers, final norm and lm_head (not the embedding table)."""
    from onnx_modules import locate_parts

    parts = locate_parts(model)
    n = sum(p.numel() for p in parts.text_model.layers.parameters())
    n += sum(p.numel() for p in parts.text_model.norm.parameters())
    n += parts.lm_head.weight.numel()
    return n * bytes_per_param


def measure_dtype(model, spec: dict, dtype: str, decode_tokens: int, repeats: int, generate_tokens: int) -> dict:
    import torch

    from export import hf_image_features, image_token_types
    from onnx_modules import locate_parts

    torch_dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}[dtype]
    parts = locate_parts(model)
    model.to(torch_dtype)
    # fp16: keep the vision tower in float32 as our export does (it overflows in fp16); bf16: as transformers runs it.
    vision_dtype = torch.float32 if dtype == "fp16" else torch_dtype
    parts.visual.to(vision_dtype)
    embed = parts.text_model.embed_tokens
    device = DEVICE["name"]
    pixels = torch.cat(spec["pixel_tensors"]).to(device, vision_dtype)
    grid = torch.tensor([img["grid_thw"] for img in spec["images"]], dtype=torch.int64, device=device)

    with torch.no_grad():
        vision_ms, features = timed(lambda: hf_image_features(model, pixels, grid), repeats)

        def embeds_of(q):
            ids = torch.tensor([q["ids"]], device=device)
            e = embed(ids)
            e[ids == 151655] = features.to(e.dtype)
            return e

        def prefill(q):
            e = embeds_of(q)
            n = e.shape[1]
            out = forward(
                model,
                inputs_embeds=e,
                attention_mask=torch.ones(1, n, dtype=torch.int64, device=device),
                position_ids=torch.tensor(q["position_ids"], device=device).view(3, 1, n),
                use_cache=True,
                cache_position=torch.arange(n, device=device),
            )
            return out

        q0 = spec["questions"][0]
        prefill_ms, _ = timed(lambda: prefill(q0), repeats)

        def decode_run():
            out = prefill(q0)
            sync()
            past, total = out.past_key_values, len(q0["ids"])
            token = torch.tensor([[spec["choice_ids"][0]]], device=device)
            start = time.perf_counter()
            for _ in range(decode_tokens):
                pos = torch.full((3, 1, 1), total + q0["rope_delta"], device=device)
                out = model(
                    input_ids=token,
                    attention_mask=torch.ones(1, total + 1, dtype=torch.int64, device=device),
                    position_ids=pos,
                    past_key_values=past,
                    use_cache=True,
                    cache_position=torch.tensor([total], device=device),
                )
                past, total = out.past_key_values, total + 1
            sync()
            return (time.perf_counter() - start) * 1000 / decode_tokens

        decode_run()
        decode_ms = statistics.median(decode_run() for _ in range(max(1, repeats // 2)))

        def viewpoint():
            f = hf_image_features(model, pixels, grid)
            probs = []
            for q in spec["questions"]:
                ids = torch.tensor([q["ids"]], device=device)
                e = embed(ids)
                e[ids == 151655] = f.to(e.dtype)
                n = e.shape[1]
                out = forward(
                    model,
                    inputs_embeds=e,
                    attention_mask=torch.ones(1, n, dtype=torch.int64, device=device),
                    position_ids=torch.tensor(q["position_ids"], device=device).view(3, 1, n),
                    use_cache=False,
                )
                logp = torch.log_softmax(out.logits[0, -1].float(), -1)[spec["choice_ids"]]
                probs.append(torch.softmax(logp, -1).tolist())
            return probs

        viewpoint_ms, probabilities = timed(viewpoint, repeats)

        def generated_answers():
            answers = []
            for q in spec["questions"]:
                ids = torch.tensor([q["ids"]], device=device)
                out = model.generate(
                    input_ids=ids,
                    attention_mask=torch.ones_like(ids),
                    pixel_values=pixels,
                    image_grid_thw=grid,
                    max_new_tokens=generate_tokens,
                    min_new_tokens=generate_tokens,
                    do_sample=False,
                    **image_token_types(model, ids),
                )
                answers.append(out[0, ids.shape[1]:].tolist())
            return answers

        generate_ms, generated = timed(generated_answers, repeats)
    return {
        "dtype": dtype,
        "vision_dtype": str(vision_dtype).replace("torch.", ""),
        "attn_implementation": "sdpa",
        "vision_ms_two_images": vision_ms,
        "prefill_ms": prefill_ms,
        "prefill_tokens": len(q0["ids"]),
        "decode_ms_per_token": decode_ms,
        "decode_tokens": decode_tokens,
        "viewpoint_e2e_ms": viewpoint_ms,
        "viewpoint_method": "vision once (both images in one call), then one full forward per question",
        "viewpoint_probabilities": probabilities,
        "viewpoint_generate_ms": generate_ms,
        "viewpoint_generate_method": f"model.generate per question (images and prompt, greedy, {generate_tokens} new tokens)",
        "viewpoint_generate_tokens": generated,
    }


def run(args) -> int:
    import torch
    import transformers
    from transformers import Qwen2_5_VLForConditionalGeneration

    DEVICE["name"] = args.device
    model_dir = Path(args.model)
    spec = make_inputs(model_dir, Path(args.inputs), args.image_size, args.seed)
    bw = bandwidth_gbs(2.0 if args.device == "cuda" else 0.25)
    kwargs = {"attn_implementation": "sdpa"}
    try:
        model = Qwen2_5_VLForConditionalGeneration.from_pretrained(str(model_dir), dtype=torch.bfloat16, **kwargs)
    except TypeError:
        model = Qwen2_5_VLForConditionalGeneration.from_pretrained(str(model_dir), torch_dtype=torch.bfloat16, **kwargs)
    model.to(args.device).eval()
    weight_bytes = decoder_weight_bytes(model)
    results = {}
    for dtype in args.dtypes.split(","):
        results[dtype] = measure_dtype(model, spec, dtype, args.decode_tokens, args.repeats, args.generate_tokens)
        if args.device == "cuda":
            torch.cuda.empty_cache()
    if args.device == "cuda":
        props = torch.cuda.get_device_properties(0)
        gpu = {"name": props.name, "memory_gib": round(props.total_memory / (1 << 30), 1)}
    else:
        gpu = {"name": "none (--device cpu: a smoke run, not a measurement)"}
    report = {
        "device": args.device,
        "gpu": gpu,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "cuda": torch.version.cuda},
        "model": {
            "parameters": sum(p.numel() for p in model.parameters()),
            "decoder_fp16_bytes_per_token": weight_bytes,
            "prompt_tokens": [len(q["ids"]) for q in spec["questions"]],
            "image_grid_thw": spec["images"][0]["grid_thw"],
        },
        "bandwidth": bw,
        "floor": {
            "decode_ms_per_token_fp16": weight_bytes / (bw["gb_per_s"] * 1e9) * 1000,
            "how": "fp16 decoder weights (layers, final norm, lm_head) / measured device-to-device copy bandwidth",
        },
        "torch": results,
    }
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


def read_part(path: Path):
    """A JSON file, or the last JSON line of a log, or a note that it is missing."""
    if not path.exists():
        return {"skipped": f"{path} not written"}
    text = path.read_text()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        for line in reversed(text.strip().splitlines()):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return {"raw": text[-2000:]}


def merge(out: str, parts) -> int:
    """Merges JSON parts ({name: object} by file stem) into one report with engine/PyTorch ratios."""
    report = {}
    for part in parts:
        path = Path(part)
        report[path.stem] = read_part(path)
    torch_part = report.get("torch", {})
    engine = report.get("engine", {})
    fp16 = (torch_part.get("torch") or {}).get("fp16") or {}
    smoke = torch_part.get("device") == "cpu"
    if (engine.get("execution_provider") == "cuda" or smoke) and fp16:
        report["engine_over_torch_fp16"] = {
            key: engine[key] / fp16[key]
            for key in ("vision_ms_two_images", "prefill_ms", "decode_ms_per_token", "viewpoint_e2e_ms")
            if key in engine and fp16.get(key)
        }
        if engine.get("viewpoint_e2e_ms") and fp16.get("viewpoint_generate_ms"):
            report["engine_viewpoint_over_torch_generate_fp16"] = engine["viewpoint_e2e_ms"] / fp16["viewpoint_generate_ms"]
        floor = (torch_part.get("floor") or {}).get("decode_ms_per_token_fp16")
        if floor:
            report["engine_decode_over_floor"] = engine["decode_ms_per_token"] / floor
        probs_engine = engine.get("viewpoint_probabilities") or []
        probs_torch = fp16.get("viewpoint_probabilities") or []
        if probs_engine and probs_torch:
            report["viewpoint_probability_max_diff_vs_torch_fp16"] = max(
                abs(a - b) for pe, pt in zip(probs_engine, probs_torch) for a, b in zip(pe, pt)
            )
        over_generate = report.get("engine_viewpoint_over_torch_generate_fp16")
        over_floor = report.get("engine_decode_over_floor")
        report["targets"] = {
            "viewpoint_faster_than_torch_generate": None if over_generate is None else over_generate < 1,
            "decode_within_2x_of_floor": None if over_floor is None else over_floor <= 2,
            "note": "smoke run on the CPU: not a measurement" if smoke else "issue 9 targets",
        }
    Path(out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model")
    p.add_argument("--inputs")
    p.add_argument("--out")
    p.add_argument("--dtypes", default="fp16,bf16")
    p.add_argument("--decode-tokens", type=int, default=32)
    p.add_argument("--generate-tokens", type=int, default=2, help="new tokens per generate-based answer")
    p.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--image-size", type=int, default=448)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--merge", nargs="+", metavar=("OUT", "PART"), help="merge JSON parts into OUT")
    args = p.parse_args(argv)
    if args.merge:
        return merge(args.merge[0], args.merge[1:])
    if not (args.model and args.inputs and args.out):
        p.error("--model, --inputs and --out are required")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
