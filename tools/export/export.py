#!/usr/bin/env python3
"""Exports a Hugging Face Qwen2.5-VL checkpoint to the ONNX model folder actial-ros loads.

    python3 tools/export/export.py --model DIR --out DIR [--dtype fp16|fp32] [--opset N]
                                   [--device cpu|cuda] [--check] [--check-only] [--tolerance X]

Writes (transformers.js v4 layout, see README.md "Model folder"; {sfx} is '' for fp32, '_fp16'):
  onnx/vision_encoder{sfx}.onnx        float32 weights whatever --dtype (fp16 overflows there)
  onnx/embed_tokens{sfx}.onnx          --dtype
  onnx/decoder_model_merged{sfx}.onnx  --dtype, KV cache in/out, num_logits_to_keep, logits float32
  *.onnx_data next to graphs over --external-data-threshold (2 GB protobuf limit)
  config.json (with text_config and the top-level token ids the engine and transformers.js read),
  generation_config.json, preprocessor_config.json (every field explicit), tokenizer.json,
  tokenizer_config.json, chat_template.json (or .jinja), copied from the checkpoint.

--check builds a random input (two small images and a viewpoint question), runs the PyTorch model
and the exported graphs (onnxruntime Python, the engine's way: one image per vision run, features
written over the image tokens, M-RoPE positions computed by the caller, KV cache continued) and
compares image features, prefill logits and two cached decode steps (one token, then three). It
prints max abs / normalised differences as JSON and exits 1 above tolerance.

Needs torch >= 2.1, transformers >= 4.49 (Qwen2_5_VLForConditionalGeneration), onnx, and for
--check onnxruntime. See tools/export/README.md.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import torch  # noqa: E402

from onnx_modules import (  # noqa: E402
    Decoder,
    EmbedTokens,
    VisionEncoder,
    empty_past,
    locate_parts,
    merge_image_features,
)
from qwen_layout import (  # noqa: E402
    QWEN_TOKEN_IDS,
    expand_image_placeholders,
    mrope_positions,
    question_prompt,
)

DTYPE_SUFFIX = {"fp32": "", "fp16": "_fp16"}
TORCH_DTYPE = {"fp32": torch.float32, "fp16": torch.float16}
GRAPHS = ("vision_encoder", "embed_tokens", "decoder_model_merged")
DEFAULT_TOLERANCE = {"fp32": 1e-3, "fp16": 5e-2}
CHECK_QUESTION = (
    "The object captured in these two photos did not move. From the camera's perspective, did the position "
    "of the camera that captured the second photo move relative to the first photo's camera position? "
    "A: Move to the left B: Move to the right C: No movement Select the correct option, please output only "
    "the option letter!"
)


def log(message: str) -> None:
    sys.stderr.write(f"export: {message}\n")
    sys.stderr.flush()


# ---------------------------------------------------------------------------------------------
# Loading


def load_model(model_dir: str, device: str, dtype: str, attn: str = "eager"):
    """The checkpoint with its vision tower in float32 and the language model in `dtype`, eval mode."""
    from transformers import Qwen2_5_VLForConditionalGeneration

    # torch_dtype (renamed dtype in transformers 4.56, still accepted); prepare_model sets the
    # final dtypes either way.
    try:
        model = Qwen2_5_VLForConditionalGeneration.from_pretrained(
            model_dir, torch_dtype=TORCH_DTYPE[dtype], attn_implementation=attn
        )
    except TypeError:
        model = Qwen2_5_VLForConditionalGeneration.from_pretrained(
            model_dir, dtype=TORCH_DTYPE[dtype], attn_implementation=attn
        )
    return prepare_model(model, device, dtype)


def prepare_model(model, device: str, dtype: str):
    parts = locate_parts(model)
    model.to(device)
    model.to(TORCH_DTYPE[dtype])
    parts.visual.to(torch.float32)
    model.eval()
    return model


# ---------------------------------------------------------------------------------------------
# Export


def _onnx_export(module, args, path: Path, input_names, output_names, dynamic_axes, opset: int) -> None:
    kwargs = dict(
        input_names=list(input_names),
        output_names=list(output_names),
        dynamic_axes=dynamic_axes,
        opset_version=opset,
        do_constant_folding=True,
    )
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False  # the TorchScript exporter: dynamic_axes, names as given
    with torch.no_grad():
        torch.onnx.export(module, tuple(args), str(path), **kwargs)


def _finalise(tmp_path: Path, final: Path, threshold: int) -> Dict[str, object]:
    """Re-saves an exported graph: one external data file `<name>_data` when its weights exceed `threshold`."""
    import onnx

    model = onnx.load(str(tmp_path), load_external_data=True)
    weight_bytes = sum(len(t.raw_data) for t in model.graph.initializer)
    data_name = final.name + "_data"
    for stale in (final, final.with_name(data_name)):
        if stale.exists():
            stale.unlink()
    external = weight_bytes > threshold
    if external:
        onnx.save_model(
            model,
            str(final),
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=data_name,
            size_threshold=1024,
        )
    else:
        onnx.save_model(model, str(final))
    return {"file": str(final), "weight_bytes": weight_bytes, "external_data": data_name if external else None}


def graph_paths(out_dir: Path, dtype: str) -> Dict[str, Path]:
    sfx = DTYPE_SUFFIX[dtype]
    return {name: out_dir / "onnx" / f"{name}{sfx}.onnx" for name in GRAPHS}


def export_graphs(model, out_dir: Path, dtype: str, opset: int, device: str, threshold: int) -> List[dict]:
    """Traces the three wrapper modules and writes them under out_dir/onnx with the dtype suffix."""
    parts = locate_parts(model)
    paths = graph_paths(out_dir, dtype)
    paths["vision_encoder"].parent.mkdir(parents=True, exist_ok=True)
    tdtype = TORCH_DTYPE[dtype]
    vision = VisionEncoder(parts.visual, parts.vision_config).to(device).eval()
    embed = EmbedTokens(parts.text_model.embed_tokens).to(device).eval()
    decoder = Decoder(parts.text_model, parts.lm_head, parts.text_config).to(device).eval()
    patch_row = int(getattr(parts.vision_config, "in_channels", getattr(parts.vision_config, "in_chans", 3)))
    patch_row *= int(getattr(parts.vision_config, "temporal_patch_size", 2))
    patch_row *= int(getattr(parts.vision_config, "patch_size", 14)) ** 2
    results = []
    with tempfile.TemporaryDirectory(prefix="actial-export-") as tmp:
        tmp_dir = Path(tmp)

        # Two images of different grids, so that nothing about one image size is baked in.
        grid = torch.tensor([[1, 8, 12], [1, 4, 4]], dtype=torch.int64, device=device)
        pixels = torch.randn(int((grid[:, 0] * grid[:, 1] * grid[:, 2]).sum()), patch_row, device=device)
        log(f"tracing vision_encoder (float32, {pixels.shape[0]} example patches)")
        _onnx_export(
            vision,
            (pixels, grid),
            tmp_dir / "vision.onnx",
            ["pixel_values", "image_grid_thw"],
            ["image_features"],
            {
                "pixel_values": {0: "num_patches"},
                "image_grid_thw": {0: "num_images"},
                "image_features": {0: "num_merged_patches"},
            },
            opset,
        )
        results.append(_finalise(tmp_dir / "vision.onnx", paths["vision_encoder"], threshold))

        ids = torch.tensor([[QWEN_TOKEN_IDS["im_start"], 872, 198, 9707, 13]], dtype=torch.int64, device=device)
        log(f"tracing embed_tokens ({dtype})")
        _onnx_export(
            embed,
            (ids,),
            tmp_dir / "embed.onnx",
            ["input_ids"],
            ["inputs_embeds"],
            {
                "input_ids": {0: "batch_size", 1: "sequence_length"},
                "inputs_embeds": {0: "batch_size", 1: "sequence_length"},
            },
            opset,
        )
        results.append(_finalise(tmp_dir / "embed.onnx", paths["embed_tokens"], threshold))

        seq, past_len = 3, 2
        hidden = int(parts.text_config.hidden_size)
        embeds = torch.randn(1, seq, hidden, device=device).to(tdtype)
        mask = torch.ones(1, past_len + seq, dtype=torch.int64, device=device)
        positions = torch.arange(past_len, past_len + seq, device=device).view(1, 1, -1).expand(3, 1, -1).contiguous()
        past = [
            torch.randn(1, decoder.num_kv_heads, past_len, decoder.head_dim, device=device).to(tdtype)
            for _ in range(2 * decoder.num_layers)
        ]
        keep = torch.tensor(1, dtype=torch.int64, device=device)
        axes = {
            "inputs_embeds": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
            "position_ids": {1: "batch_size", 2: "sequence_length"},
            "logits": {0: "batch_size", 1: "num_logits"},
        }
        for name in decoder.input_names():
            if name.startswith("past_key_values."):
                axes[name] = {0: "batch_size", 2: "past_sequence_length"}
        for name in decoder.output_names():
            if name.startswith("present."):
                axes[name] = {0: "batch_size", 2: "total_sequence_length"}
        log(f"tracing decoder_model_merged ({dtype}, {decoder.num_layers} layers)")
        _onnx_export(
            decoder,
            (embeds, mask, positions, *past, keep),
            tmp_dir / "decoder.onnx",
            decoder.input_names(),
            decoder.output_names(),
            axes,
            opset,
        )
        results.append(_finalise(tmp_dir / "decoder.onnx", paths["decoder_model_merged"], threshold))
    return results


# ---------------------------------------------------------------------------------------------
# Folder files

DEFAULT_MIN_PIXELS = 56 * 56
DEFAULT_MAX_PIXELS = 28 * 28 * 16384
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
TOP_LEVEL_KEYS = {
    "architectures",
    "model_type",
    "vision_config",
    "text_config",
    "image_token_id",
    "video_token_id",
    "vision_start_token_id",
    "vision_end_token_id",
    "vision_token_id",
    "transformers_version",
    "torch_dtype",
    "dtype",
}


def folder_config(config: dict, dtype: str) -> dict:
    """config.json for the ONNX folder: the checkpoint's, plus text_config and the top-level token ids."""
    out = dict(config)
    text = dict(out.get("text_config") or {k: v for k, v in config.items() if k not in TOP_LEVEL_KEYS})
    text["model_type"] = "qwen2_5_vl_text"
    out["text_config"] = text
    for key, value in (
        ("image_token_id", QWEN_TOKEN_IDS["image_pad"]),
        ("video_token_id", QWEN_TOKEN_IDS["video_pad"]),
        ("vision_start_token_id", QWEN_TOKEN_IDS["vision_start"]),
        ("vision_end_token_id", QWEN_TOKEN_IDS["vision_end"]),
    ):
        out.setdefault(key, text.get(key, value))
    out.setdefault("model_type", "qwen2_5_vl")
    out["transformers.js_config"] = {"dtype": dtype}
    out["actial_export"] = {"dtype": dtype, "vision_dtype": "fp32", "exporter": "tools/export/export.py"}
    return out


def folder_preprocessor(pre: dict) -> dict:
    """preprocessor_config.json with every field explicit (transformers.js defaults differ from Python's)."""
    out = dict(pre)
    min_pixels = int(out.get("min_pixels") or (out.get("size") or {}).get("shortest_edge") or DEFAULT_MIN_PIXELS)
    max_pixels = int(out.get("max_pixels") or (out.get("size") or {}).get("longest_edge") or DEFAULT_MAX_PIXELS)
    defaults = {
        "image_processor_type": "Qwen2VLImageProcessor",
        "processor_class": "Qwen2_5_VLProcessor",
        "do_convert_rgb": True,
        "do_resize": True,
        "size": {"shortest_edge": min_pixels, "longest_edge": max_pixels},
        "min_pixels": min_pixels,
        "max_pixels": max_pixels,
        "resample": 3,
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": CLIP_MEAN,
        "image_std": CLIP_STD,
        "patch_size": 14,
        "temporal_patch_size": 2,
        "merge_size": 2,
    }
    for key, value in defaults.items():
        out.setdefault(key, value)
    return out


def _read_json(path: Path) -> Optional[dict]:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def write_folder_files(model_dir: Path, out_dir: Path, dtype: str, config: dict) -> List[str]:
    """Copies the tokenizer, chat template and configs next to the graphs; returns the names written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in ("tokenizer.json", "tokenizer_config.json"):
        if not (model_dir / name).exists():
            raise SystemExit(f"export: {model_dir / name} is missing (the engine needs the tokenizer files)")
        shutil.copyfile(model_dir / name, out_dir / name)
        written.append(name)
    for name in ("chat_template.json", "chat_template.jinja", "vocab.json", "merges.txt", "special_tokens_map.json"):
        if (model_dir / name).exists():
            shutil.copyfile(model_dir / name, out_dir / name)
            written.append(name)
    tokenizer_config = _read_json(out_dir / "tokenizer_config.json") or {}
    if not any((out_dir / n).exists() for n in ("chat_template.json", "chat_template.jinja")):
        if not tokenizer_config.get("chat_template"):
            raise SystemExit(f"export: no chat template in {model_dir} (chat_template.json/.jinja or tokenizer_config.json)")
    (out_dir / "config.json").write_text(json.dumps(folder_config(config, dtype), indent=2) + "\n")
    generation = _read_json(model_dir / "generation_config.json") or {}
    generation.setdefault("eos_token_id", [QWEN_TOKEN_IDS["im_end"], QWEN_TOKEN_IDS["endoftext"]])
    generation.setdefault("pad_token_id", QWEN_TOKEN_IDS["endoftext"])
    (out_dir / "generation_config.json").write_text(json.dumps(generation, indent=2) + "\n")
    pre = _read_json(model_dir / "preprocessor_config.json") or {}
    (out_dir / "preprocessor_config.json").write_text(json.dumps(folder_preprocessor(pre), indent=2) + "\n")
    written += ["config.json", "generation_config.json", "preprocessor_config.json"]
    return written


# ---------------------------------------------------------------------------------------------
# Check: PyTorch vs the exported graphs


def check_inputs(tokenizer_json: Path, seed: int = 0, grids=((1, 12, 16), (1, 8, 12)), question: str = CHECK_QUESTION):
    """Two random images (normalised-pixel range) and a viewpoint question, tokenized and expanded."""
    from tokenizers import Tokenizer

    generator = torch.Generator().manual_seed(seed)
    images = []
    for grid in grids:
        rows = grid[0] * grid[1] * grid[2]
        images.append({"grid": list(grid), "pixel_values": torch.rand(rows, 1176, generator=generator) * 4 - 2})
    prompt = question_prompt(question, len(grids))
    ids = Tokenizer.from_file(str(tokenizer_json)).encode(prompt, add_special_tokens=False).ids
    return make_sequence(prompt, ids, images)


def make_sequence(prompt: str, ids: Sequence[int], images: List[dict]) -> dict:
    grids = [img["grid"] for img in images]
    expanded = expand_image_placeholders(ids, grids, QWEN_TOKEN_IDS["image_pad"])
    rows, delta = mrope_positions(expanded, grids, QWEN_TOKEN_IDS["image_pad"])
    return {"prompt": prompt, "ids": expanded, "images": images, "position_ids": rows, "rope_delta": delta}


def hf_image_features(model, pixel_values: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Merged image features from the checkpoint's own code, whatever the transformers version returns."""
    fn = getattr(model, "get_image_features", None)
    if fn is None:
        fn = getattr(getattr(model, "model", None), "get_image_features", None)
    if fn is not None:
        out = fn(pixel_values=pixel_values, image_grid_thw=grid)
    else:
        out = locate_parts(model).visual(pixel_values, grid_thw=grid)
    pooled = getattr(out, "pooler_output", None)
    if pooled is not None:
        out = pooled
    if isinstance(out, (list, tuple)):
        out = torch.cat(list(out), 0)
    return out


def _accepts(fn, name: str) -> bool:
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def image_token_types(model, ids: torch.Tensor) -> Dict[str, torch.Tensor]:
    """`mm_token_type_ids` (0 text, 1 image) for transformers >= 5, whose get_rope_index and forward need
    them to place image tokens on the M-RoPE grid (without them its forward silently falls back to text
    positions); {} for versions that find the image tokens themselves."""
    if not _accepts(type(model).forward, "mm_token_type_ids"):
        return {}
    return {"mm_token_type_ids": (ids == QWEN_TOKEN_IDS["image_pad"]).to(torch.int32)}


def hf_rope_index(model, ids: torch.Tensor, grid: torch.Tensor):
    fn = getattr(model, "get_rope_index", None)
    if fn is None:
        fn = getattr(getattr(model, "model", None), "get_rope_index", None)
    if fn is None:
        return None
    extra = {}
    if _accepts(fn, "mm_token_type_ids"):
        extra["mm_token_type_ids"] = (ids == QWEN_TOKEN_IDS["image_pad"]).to(torch.int32)
    positions, deltas = fn(input_ids=ids, image_grid_thw=grid, attention_mask=torch.ones_like(ids), **extra)
    return positions, deltas


def hf_prefill(model, ids: torch.Tensor, pixel_values: torch.Tensor, grid: torch.Tensor):
    """transformers' own forward over a whole prompt with its images (it computes the positions)."""
    length = ids.shape[1]
    return model(
        input_ids=ids,
        attention_mask=torch.ones_like(ids),
        pixel_values=pixel_values,
        image_grid_thw=grid,
        use_cache=True,
        cache_position=torch.arange(length, device=ids.device),
        **image_token_types(model, ids),
    )


def hf_continue(model, ids: torch.Tensor, past, total: int, rope_delta: int):
    """One forward of `ids` after `total` cached tokens. Positions are given as transformers' generate
    gives them after the prompt (index + rope_delta on all three rows): its forward on a bare call
    would otherwise derive them from state left by earlier calls."""
    n = ids.shape[1]
    positions = torch.arange(total, total + n, device=ids.device) + rope_delta
    return model(
        input_ids=ids,
        attention_mask=torch.ones(1, total + n, dtype=torch.int64, device=ids.device),
        position_ids=positions.view(1, 1, n).expand(3, 1, n),
        past_key_values=past,
        use_cache=True,
        cache_position=torch.arange(total, total + n, device=ids.device),
    )


@torch.no_grad()
def torch_reference(model, seq: dict, device: str, steps: Sequence[Sequence[int]] = ()) -> dict:
    """The checkpoint's own outputs: image features, prefill logits, then cached steps of `steps` tokens."""
    pixel_values = torch.cat([img["pixel_values"] for img in seq["images"]]).to(device)
    grid = torch.tensor([img["grid"] for img in seq["images"]], dtype=torch.int64, device=device)
    ids = torch.tensor([seq["ids"]], dtype=torch.int64, device=device)
    parts = locate_parts(model)
    vision_dtype = next(parts.visual.parameters()).dtype
    features = hf_image_features(model, pixel_values.to(vision_dtype), grid).float().cpu()
    rope = hf_rope_index(model, ids, grid)
    out = hf_prefill(model, ids, pixel_values.to(vision_dtype), grid)
    result = {
        "features": features,
        "prefill_logits": out.logits[0].float().cpu(),
        "hf_position_ids": None if rope is None else rope[0][:, 0].cpu().tolist(),
        "hf_rope_delta": None if rope is None else int(rope[1].reshape(-1)[0]),
        "steps": [],
    }
    delta = seq["rope_delta"] if result["hf_rope_delta"] is None else result["hf_rope_delta"]
    past, total = out.past_key_values, ids.shape[1]
    for tokens in steps:
        step_ids = torch.tensor([list(tokens)], dtype=torch.int64, device=device)
        out = hf_continue(model, step_ids, past, total, delta)
        past, total = out.past_key_values, total + step_ids.shape[1]
        result["steps"].append(out.logits[0].float().cpu())
    return result


class OnnxFolder:
    """The exported graphs driven the way src/model/runner.ts drives them (onnxruntime Python)."""

    def __init__(self, out_dir: Path, dtype: str, providers: Optional[List[str]] = None):
        import onnxruntime as ort

        available = ort.get_available_providers()
        wanted = providers or ["CUDAExecutionProvider", "CPUExecutionProvider"]
        self.providers = [p for p in wanted if p in available] or ["CPUExecutionProvider"]
        paths = graph_paths(out_dir, dtype)
        self.vision = ort.InferenceSession(str(paths["vision_encoder"]), providers=self.providers)
        self.embed = ort.InferenceSession(str(paths["embed_tokens"]), providers=self.providers)
        self.decoder = ort.InferenceSession(str(paths["decoder_model_merged"]), providers=self.providers)
        config = json.loads((out_dir / "config.json").read_text())
        self.image_token_id = int(config["image_token_id"])
        self.past_inputs = [i for i in self.decoder.get_inputs() if i.name.startswith("past_key_values.")]
        self.np_dtype = _np_type(self.past_inputs[0].type)

    def encode(self, pixel_values, grids) -> "object":
        import numpy as np

        return self.vision.run(
            ["image_features"],
            {
                "pixel_values": np.ascontiguousarray(pixel_values, dtype=np.float32),
                "image_grid_thw": np.array(grids, dtype=np.int64).reshape(-1, 3),
            },
        )[0]

    def embeds(self, ids: Sequence[int]):
        import numpy as np

        return self.embed.run(None, {"input_ids": np.array([list(ids)], dtype=np.int64)})[0]

    def forward(self, embeds, positions, past, total: int, keep: int):
        import numpy as np

        feeds = {
            "inputs_embeds": embeds.astype(self.np_dtype),
            "attention_mask": np.ones((1, total), dtype=np.int64),
            "position_ids": np.array(positions, dtype=np.int64).reshape(3, 1, -1),
            "num_logits_to_keep": np.array(keep, dtype=np.int64),
        }
        for meta, tensor in zip(self.past_inputs, past):
            feeds[meta.name] = tensor
        outputs = self.decoder.run(None, feeds)
        names = [o.name for o in self.decoder.get_outputs()]
        by_name = dict(zip(names, outputs))
        presents = [by_name[m.name.replace("past_key_values.", "present.")] for m in self.past_inputs]
        return by_name["logits"][0], presents

    def empty_past(self):
        import numpy as np

        out = []
        for meta in self.past_inputs:
            heads, head_dim = meta.shape[1], meta.shape[3]
            out.append(np.zeros((1, heads, 0, head_dim), dtype=self.np_dtype))
        return out


def _np_type(onnx_type: str):
    import numpy as np

    return {"tensor(float16)": np.float16, "tensor(float)": np.float32}[onnx_type]


def onnx_outputs(folder: OnnxFolder, seq: dict, steps: Sequence[Sequence[int]]) -> dict:
    """Features (one image per run, as the engine; and both in one run), prefill logits, cached steps."""
    import numpy as np

    per_image = [folder.encode(img["pixel_values"].numpy(), [img["grid"]]) for img in seq["images"]]
    together = folder.encode(
        np.concatenate([img["pixel_values"].numpy() for img in seq["images"]]), [img["grid"] for img in seq["images"]]
    )
    features = np.concatenate(per_image)
    ids = seq["ids"]
    embeds = folder.embeds(ids)
    mask = np.array(ids) == folder.image_token_id
    embeds[0, mask] = features.astype(embeds.dtype)
    logits, past = folder.forward(embeds, seq["position_ids"], folder.empty_past(), len(ids), 0)
    last, _ = folder.forward(embeds, seq["position_ids"], folder.empty_past(), len(ids), 1)
    result = {
        "features": features,
        "features_together": together,
        "prefill_logits": logits,
        "prefill_last_kept": last,
        "steps": [],
    }
    total = len(ids)
    for tokens in steps:
        n = len(tokens)
        positions = [[total + k + seq["rope_delta"] for k in range(n)] for _ in range(3)]
        step_logits, past = folder.forward(folder.embeds(tokens), positions, past, total + n, 0)
        total += n
        result["steps"].append(step_logits)
    return result


def difference(a, b) -> dict:
    """max |a - b| and the same over max |b| (normalised), for arrays or tensors of the same shape."""
    import numpy as np

    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return {"shape_mismatch": [list(a.shape), list(b.shape)], "max_abs": float("inf"), "normalised": float("inf")}
    diff = float(np.max(np.abs(a - b))) if a.size else 0.0
    scale = float(np.max(np.abs(b))) if b.size else 0.0
    return {"max_abs": diff, "normalised": diff / scale if scale > 0 else diff, "max_ref": scale}


def run_check(model, out_dir: Path, dtype: str, device: str, tolerance: float, seed: int = 0) -> dict:
    """PyTorch vs ONNX on a random two-image prompt; returns the report (report['passed'])."""
    import numpy as np

    seq = check_inputs(out_dir / "tokenizer.json", seed)
    started = time.time()
    first = torch_reference(model, seq, device)
    greedy = int(first["prefill_logits"][-1].argmax())
    steps = [[greedy], [32, 33, 34]]  # then "ABC": a multi-token segment continuing the cache
    ref = torch_reference(model, seq, device, steps)
    torch_s = time.time() - started
    folder = OnnxFolder(out_dir, dtype)
    started = time.time()
    got = onnx_outputs(folder, seq, steps)
    onnx_s = time.time() - started
    report = {
        "dtype": dtype,
        "tolerance_normalised": tolerance,
        "onnxruntime_providers": folder.providers,
        "prompt_tokens": len(seq["ids"]),
        "grids": [img["grid"] for img in seq["images"]],
        "position_ids_equal_transformers": None
        if ref["hf_position_ids"] is None
        else (ref["hf_position_ids"] == seq["position_ids"] and ref["hf_rope_delta"] == seq["rope_delta"]),
        "vision_features": difference(got["features"], ref["features"]),
        "vision_features_two_images_one_run": difference(got["features_together"], ref["features"]),
        "prefill_logits": difference(got["prefill_logits"], ref["prefill_logits"]),
        "prefill_last_row_num_logits_to_keep_1": difference(got["prefill_last_kept"], ref["prefill_logits"][-1:]),
        "decode_step_1_token": difference(got["steps"][0], ref["steps"][0]),
        "decode_step_3_tokens": difference(got["steps"][1], ref["steps"][1]),
        "argmax_equal": [
            bool(np.argmax(got["prefill_logits"][-1]) == int(ref["prefill_logits"][-1].argmax())),
            bool(np.argmax(got["steps"][0][-1]) == int(ref["steps"][0][-1].argmax())),
        ],
        "seconds": {"torch": round(torch_s, 2), "onnxruntime": round(onnx_s, 2)},
    }
    keys = [
        "vision_features",
        "vision_features_two_images_one_run",
        "prefill_logits",
        "prefill_last_row_num_logits_to_keep_1",
        "decode_step_1_token",
        "decode_step_3_tokens",
    ]
    worst = max(report[k]["normalised"] for k in keys)
    report["worst_normalised"] = worst
    report["passed"] = bool(worst <= tolerance and report["position_ids_equal_transformers"] is not False)
    return report


# ---------------------------------------------------------------------------------------------
# CLI


def parse_args(argv: Optional[Sequence[str]] = None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="Hugging Face Qwen2.5-VL checkpoint folder (local)")
    p.add_argument("--out", required=True, help="ONNX model folder to write")
    p.add_argument("--dtype", choices=sorted(DTYPE_SUFFIX), default="fp16", help="decoder and embedding weights (default fp16)")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="where to trace (and run the check's PyTorch side)")
    p.add_argument("--check", action="store_true", help="after exporting, compare PyTorch and the ONNX graphs")
    p.add_argument("--check-only", action="store_true", help="only the comparison, on an existing --out folder")
    p.add_argument("--tolerance", type=float, default=None, help="largest normalised difference (default 1e-3 fp32, 5e-2 fp16)")
    p.add_argument("--seed", type=int, default=0, help="seed of the check's random images")
    p.add_argument(
        "--external-data-threshold",
        type=int,
        default=1 << 30,
        help="graphs whose weights exceed this many bytes get a <graph>.onnx_data file (default 1 GiB)",
    )
    p.add_argument("--report", help="also write the check report (JSON) to this file")
    return p.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    model_dir, out_dir = Path(args.model), Path(args.out)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("export: --device cuda but torch sees no CUDA device")
    log(f"loading {model_dir} (language model {args.dtype}, vision float32) on {args.device}")
    model = load_model(str(model_dir), args.device, args.dtype)
    summary: dict = {"model": str(model_dir), "out": str(out_dir), "dtype": args.dtype}
    if not args.check_only:
        started = time.time()
        summary["files"] = write_folder_files(model_dir, out_dir, args.dtype, model.config.to_dict())
        try:
            summary["graphs"] = export_graphs(
                model, out_dir, args.dtype, args.opset, args.device, args.external_data_threshold
            )
        except RuntimeError as error:
            if "not implemented for 'Half'" in str(error):
                raise SystemExit(
                    f"export: this torch ({torch.__version__}) cannot run float16 on the CPU ({error}); "
                    "trace with --device cuda, or use a newer torch"
                ) from error
            raise
        summary["export_seconds"] = round(time.time() - started, 1)
    code = 0
    if args.check or args.check_only:
        tolerance = args.tolerance if args.tolerance is not None else DEFAULT_TOLERANCE[args.dtype]
        report = run_check(model, out_dir, args.dtype, args.device, tolerance, args.seed)
        summary["check"] = report
        if args.report:
            Path(args.report).write_text(json.dumps(report, indent=2) + "\n")
        code = 0 if report["passed"] else 1
        log(f"check {'passed' if code == 0 else 'FAILED'}: worst normalised difference {report['worst_normalised']:.3g} (tolerance {tolerance:g})")
    print(json.dumps(summary, indent=2))
    return code


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main())
