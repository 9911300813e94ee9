"""Torch modules that expose a Hugging Face Qwen2.5-VL model as the three ONNX graphs actial-ros loads.

The graph contracts are those of src/model/runner.ts (the engine) and src/model/tiny/graphs.ts (the
tiny test model the engine is tested on):

- vision_encoder: pixel_values f32 [num_patches, 1176], image_grid_thw i64 [num_images, 3]
  -> image_features [num_patches / 4, hidden]  (merged tokens, images in order, raster order).
- embed_tokens: input_ids i64 [batch, seq] -> inputs_embeds [batch, seq, hidden].
- decoder_model_merged: inputs_embeds [batch, seq, hidden], attention_mask i64 [batch, past + seq],
  position_ids i64 [3, batch, seq] (M-RoPE, computed by the caller), past_key_values.{i}.key|value
  [batch, kv_heads, past, head_dim], num_logits_to_keep i64 scalar (0 = every position)
  -> logits f32 [batch, kept, vocab], present.{i}.key|value [batch, kv_heads, past + seq, head_dim].
  Query i sits at absolute position past + i and attends key j iff j <= past + i and
  attention_mask[j] == 1.

The modules call the checkpoint's own submodules for everything that acts on one token at a time
(RMSNorm, projections, MLPs, patch embedding, patch merger) and reimplement only what tracing gets
wrong in transformers' code: attention and its masks (transformers picks causal/SDPA shortcuts from
the example shapes, and its vision tower splits windows with Python loops over image_grid_thw), and
the rotary tables. Vision windows and per-image full attention become dense block masks computed
from image_grid_thw with tensor operations, so one graph serves every image size; HF reorders
patches by window and back, which dense masking makes unnecessary (the result is the same).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence, Tuple

import torch
from torch import nn


@dataclass
class QwenParts:
    """Where a Qwen2.5-VL checkpoint keeps what the exported graphs need (across transformers versions)."""

    visual: nn.Module
    text_model: nn.Module
    lm_head: nn.Module
    text_config: object
    vision_config: object


def locate_parts(model: nn.Module) -> QwenParts:
    """Finds the vision tower, the text model and lm_head of a Qwen2_5_VLForConditionalGeneration.

    transformers 4.49-4.51: model.visual, model.model (text), model.lm_head.
    transformers >= 4.52: model.model.visual, model.model.language_model, model.lm_head.
    """
    inner = getattr(model, "model", None)
    visual = getattr(inner, "visual", None)
    if visual is None:
        visual = getattr(model, "visual", None)
    text_model = getattr(inner, "language_model", None)
    if text_model is None or not hasattr(text_model, "layers"):
        text_model = inner
    lm_head = getattr(model, "lm_head", None)
    if visual is None or text_model is None or lm_head is None or not hasattr(text_model, "layers"):
        raise ValueError("not a Qwen2.5-VL model: no visual tower, text layers or lm_head found")
    config = model.config
    text_config = config.get_text_config() if hasattr(config, "get_text_config") else config
    if text_config is None or not hasattr(text_config, "num_hidden_layers"):
        text_config = config
    return QwenParts(visual, text_model, lm_head, text_config, config.vision_config)


def rope_settings(text_config: object) -> Tuple[float, List[int]]:
    """(rope_theta, mrope_section) from a text config (rope_scaling in 4.x, rope_parameters in 5.x)."""
    scaling = getattr(text_config, "rope_scaling", None) or {}
    params = getattr(text_config, "rope_parameters", None) or {}
    section = scaling.get("mrope_section") or params.get("mrope_section")
    theta = getattr(text_config, "rope_theta", None) or params.get("rope_theta") or 10000.0
    if not section:
        raise ValueError("text config has no rope_scaling.mrope_section: not a Qwen2.5-VL model")
    return float(theta), [int(s) for s in section]


# ---------------------------------------------------------------------------------------------
# Vision


def patch_coordinates(grid_thw: torch.Tensor, patch_ids: torch.Tensor, merge: int) -> dict:
    """Per pixel_values row: image, frame, merged-block row/column and patch row/column.

    Rows are ordered as Qwen2VLImageProcessor writes them (DESIGN.md section 3): within image i,
    p = (((t * Hb + hb) * Wb + wb) * merge + mh) * merge + mw, Hb = h / merge, Wb = w / merge.
    `patch_ids` is arange(num_patches) (int64). Tensor operations only, so that tracing keeps
    every image size dynamic.
    """
    grid = grid_thw.to(torch.int64)
    t, h, w = grid[:, 0], grid[:, 1], grid[:, 2]
    counts = t * h * w
    ends = torch.cumsum(counts, 0)
    starts = ends - counts
    image = (patch_ids.unsqueeze(1) >= ends.unsqueeze(0)).to(torch.int64).sum(1)
    local = patch_ids - starts.index_select(0, image)
    blocks_h = torch.div(h.index_select(0, image), merge, rounding_mode="floor")
    blocks_w = torch.div(w.index_select(0, image), merge, rounding_mode="floor")
    mw = torch.remainder(local, merge)
    rest = torch.div(local, merge, rounding_mode="floor")
    mh = torch.remainder(rest, merge)
    rest = torch.div(rest, merge, rounding_mode="floor")
    wb = torch.remainder(rest, blocks_w)
    rest = torch.div(rest, blocks_w, rounding_mode="floor")
    hb = torch.remainder(rest, blocks_h)
    frame = torch.div(rest, blocks_h, rounding_mode="floor")
    return {
        "image": image,
        "frame": frame,
        "block_row": hb,
        "block_col": wb,
        "row": hb * merge + mh,
        "col": wb * merge + mw,
    }


def vision_masks(coords: dict, window_blocks: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Boolean [N, N] masks: same image frame (full-attention blocks), same window (the others).

    A window is window_blocks x window_blocks merged blocks of one frame, counted from the top-left
    corner (transformers' get_window_index pads at the bottom/right, which is the same partition).
    """
    same_frame = (coords["image"].unsqueeze(1) == coords["image"].unsqueeze(0)) & (
        coords["frame"].unsqueeze(1) == coords["frame"].unsqueeze(0)
    )
    win_r = torch.div(coords["block_row"], window_blocks, rounding_mode="floor")
    win_c = torch.div(coords["block_col"], window_blocks, rounding_mode="floor")
    same_window = (
        same_frame
        & (win_r.unsqueeze(1) == win_r.unsqueeze(0))
        & (win_c.unsqueeze(1) == win_c.unsqueeze(0))
    )
    return same_frame, same_window


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class VisionEncoder(nn.Module):
    """pixel_values [N, C*T*P*P], image_grid_thw [I, 3] -> image_features [N / merge^2, out_hidden]."""

    def __init__(self, visual: nn.Module, vision_config: object):
        super().__init__()
        self.visual = visual
        self.merge = int(getattr(vision_config, "spatial_merge_size", 2))
        patch = int(getattr(vision_config, "patch_size", 14))
        window = int(getattr(vision_config, "window_size", 112))
        self.window_blocks = max(1, window // self.merge // patch)
        self.fullatt = set(int(i) for i in (getattr(vision_config, "fullatt_block_indexes", None) or []))
        hidden = int(getattr(vision_config, "hidden_size"))
        self.num_heads = int(getattr(vision_config, "num_heads"))
        self.head_dim = hidden // self.num_heads
        rotary = getattr(visual, "rotary_pos_emb", None)
        inv_freq = getattr(rotary, "inv_freq", None)
        if inv_freq is None:
            dim = self.head_dim // 2
            inv_freq = 1.0 / (10000.0 ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
        self.register_buffer("inv_freq", inv_freq.detach().to(torch.float32).clone(), persistent=False)

    def forward(self, pixel_values: torch.Tensor, image_grid_thw: torch.Tensor) -> torch.Tensor:
        visual = self.visual
        x = visual.patch_embed(pixel_values)
        patch_ids = torch.cumsum(torch.ones_like(pixel_values[:, 0], dtype=torch.int64), 0) - 1
        coords = patch_coordinates(image_grid_thw, patch_ids, self.merge)
        freqs_h = coords["row"].to(torch.float32).unsqueeze(1) * self.inv_freq.unsqueeze(0)
        freqs_w = coords["col"].to(torch.float32).unsqueeze(1) * self.inv_freq.unsqueeze(0)
        rotary = torch.cat((freqs_h, freqs_w), dim=-1)
        emb = torch.cat((rotary, rotary), dim=-1)
        cos = emb.cos().unsqueeze(1)  # [N, 1, head_dim]
        sin = emb.sin().unsqueeze(1)
        same_frame, same_window = vision_masks(coords, self.window_blocks)
        lowest = torch.full((), torch.finfo(torch.float32).min, dtype=torch.float32, device=x.device)
        zero = torch.zeros((), dtype=torch.float32, device=x.device)
        full_bias = torch.where(same_frame, zero, lowest).unsqueeze(0)
        window_bias = torch.where(same_window, zero, lowest).unsqueeze(0)
        scale = self.head_dim**-0.5
        heads, head_dim = self.num_heads, self.head_dim
        for index, block in enumerate(visual.blocks):
            bias = full_bias if index in self.fullatt else window_bias
            h = block.norm1(x)
            qkv = block.attn.qkv(h)
            qkv = qkv.reshape(qkv.shape[0], 3, heads, head_dim).permute(1, 0, 2, 3)
            q, k, v = qkv[0], qkv[1], qkv[2]  # [N, heads, head_dim]
            dtype = q.dtype
            q = (q.float() * cos + _rotate_half(q.float()) * sin).to(dtype)
            k = (k.float() * cos + _rotate_half(k.float()) * sin).to(dtype)
            q, k, v = q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1)  # [heads, N, head_dim]
            scores = torch.matmul(q, k.transpose(1, 2)).float() * scale + bias
            probs = torch.softmax(scores, dim=-1).to(dtype)
            out = torch.matmul(probs, v).transpose(0, 1)
            out = out.reshape(out.shape[0], heads * head_dim)
            x = x + block.attn.proj(out)
            x = x + block.mlp(block.norm2(x))
        return visual.merger(x)


# ---------------------------------------------------------------------------------------------
# Text


class EmbedTokens(nn.Module):
    """input_ids [B, S] -> inputs_embeds [B, S, hidden]."""

    def __init__(self, embed: nn.Module):
        super().__init__()
        self.embed = embed

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.embed(input_ids)


def mrope_cos_sin(
    position_ids: torch.Tensor,
    inv_freq: torch.Tensor,
    mrope_section: Sequence[int],
    scaling: float,
    dtype: torch.dtype,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """transformers' Qwen2_5_VLRotaryEmbedding + the mrope_section split: cos, sin [B, 1, S, head_dim].

    Each row (temporal, height, width) rotates with its own positions; frequency band i of the
    doubled table (mrope_section * 2) takes row i % 3. Computed in float32, returned in `dtype`.
    """
    freqs = position_ids.to(torch.float32).unsqueeze(-1) * inv_freq.to(torch.float32)  # [3, B, S, hd/2]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos = emb.cos() * scaling
    sin = emb.sin() * scaling
    sections = list(mrope_section) * 2
    cos = torch.cat([part[i % 3] for i, part in enumerate(cos.split(sections, dim=-1))], dim=-1)
    sin = torch.cat([part[i % 3] for i, part in enumerate(sin.split(sections, dim=-1))], dim=-1)
    return cos.unsqueeze(1).to(dtype), sin.unsqueeze(1).to(dtype)


class Decoder(nn.Module):
    """The decoder_model_merged contract (see the module docstring); inputs in the order of `input_names`."""

    def __init__(self, text_model: nn.Module, lm_head: nn.Module, text_config: object):
        super().__init__()
        self.layers = text_model.layers
        self.norm = text_model.norm
        self.lm_head = lm_head
        self.num_layers = int(text_config.num_hidden_layers)
        self.num_heads = int(text_config.num_attention_heads)
        self.num_kv_heads = int(getattr(text_config, "num_key_value_heads", None) or self.num_heads)
        hidden = int(text_config.hidden_size)
        self.head_dim = int(getattr(text_config, "head_dim", None) or hidden // self.num_heads)
        theta, self.mrope_section = rope_settings(text_config)
        rotary = getattr(text_model, "rotary_emb", None)
        inv_freq = getattr(rotary, "inv_freq", None)
        if inv_freq is None:
            inv_freq = 1.0 / (theta ** (torch.arange(0, self.head_dim, 2, dtype=torch.float32) / self.head_dim))
        self.register_buffer("inv_freq", inv_freq.detach().to(torch.float32).clone(), persistent=False)
        self.rope_scaling = float(getattr(rotary, "attention_scaling", 1.0) or 1.0)
        if sum(self.mrope_section) * 2 != self.head_dim:
            raise ValueError(f"mrope_section {self.mrope_section} does not cover head_dim {self.head_dim}")

    def input_names(self) -> List[str]:
        names = ["inputs_embeds", "attention_mask", "position_ids"]
        for i in range(self.num_layers):
            names += [f"past_key_values.{i}.key", f"past_key_values.{i}.value"]
        return names + ["num_logits_to_keep"]

    def output_names(self) -> List[str]:
        names = ["logits"]
        for i in range(self.num_layers):
            names += [f"present.{i}.key", f"present.{i}.value"]
        return names

    def forward(self, inputs_embeds, attention_mask, position_ids, *rest):
        past = rest[:-1]
        num_logits_to_keep = rest[-1]
        x = inputs_embeds
        dtype = x.dtype
        groups = self.num_heads // self.num_kv_heads
        head_dim = self.head_dim
        cos, sin = mrope_cos_sin(position_ids, self.inv_freq, self.mrope_section, self.rope_scaling, dtype)

        # allowed [B, 1, 1, S, T]: causal in absolute positions (query i at past + i), no padding keys.
        query_local = torch.cumsum(torch.ones_like(x[:, :, 0], dtype=torch.int64), 1) - 1
        past_length = torch._shape_as_tensor(past[0])[2]
        query_abs = query_local + past_length
        key_index = torch.cumsum(torch.ones_like(attention_mask, dtype=torch.int64), 1) - 1
        allowed = (key_index.unsqueeze(1) <= query_abs.unsqueeze(2)) & (attention_mask.unsqueeze(1) == 1)
        lowest = torch.full((), torch.finfo(torch.float32).min, dtype=torch.float32, device=x.device)
        zero_f = torch.zeros((), dtype=torch.float32, device=x.device)
        bias = torch.where(allowed, zero_f, lowest)[:, None, None]
        scale = head_dim**-0.5

        presents: List[torch.Tensor] = []
        for i, layer in enumerate(self.layers):
            attn = layer.self_attn
            h = layer.input_layernorm(x)
            batch, length = h.shape[0], h.shape[1]
            q = attn.q_proj(h).reshape(batch, length, self.num_heads, head_dim).transpose(1, 2)
            k = attn.k_proj(h).reshape(batch, length, self.num_kv_heads, head_dim).transpose(1, 2)
            v = attn.v_proj(h).reshape(batch, length, self.num_kv_heads, head_dim).transpose(1, 2)
            q = q * cos + _rotate_half(q) * sin
            k = k * cos + _rotate_half(k) * sin
            keys = torch.cat((past[2 * i], k), dim=2)
            values = torch.cat((past[2 * i + 1], v), dim=2)
            presents += [keys, values]
            # Grouped-query attention without repeating K/V: query head g * groups + r reads KV head g.
            q5 = q.reshape(batch, self.num_kv_heads, groups, length, head_dim)
            scores = torch.matmul(q5, keys.unsqueeze(2).transpose(3, 4)).float() * scale + bias
            probs = torch.softmax(scores, dim=-1).to(dtype)
            context = torch.matmul(probs, values.unsqueeze(2))  # [B, kv, groups, S, hd]
            context = context.reshape(batch, self.num_heads, length, head_dim).transpose(1, 2)
            context = context.reshape(batch, length, self.num_heads * head_dim)
            x = x + attn.o_proj(context)
            x = x + layer.mlp(layer.post_attention_layernorm(x))

        # Keep the last num_logits_to_keep positions (all of them for 0), then the norm and lm_head.
        length_t = torch._shape_as_tensor(x)[1]
        zero = torch.zeros_like(num_logits_to_keep)
        start = torch.where(
            num_logits_to_keep == 0, zero, torch.clamp(length_t - num_logits_to_keep, min=0)
        )
        kept = x.index_select(1, torch.arange(start, length_t, dtype=torch.int64, device=x.device))
        logits = self.lm_head(self.norm(kept)).float()
        return (logits, *presents)


def empty_past(decoder: Decoder, batch: int, dtype: torch.dtype, device) -> List[torch.Tensor]:
    """Past inputs of length 0, in the order of Decoder.input_names."""
    shape = (batch, decoder.num_kv_heads, 0, decoder.head_dim)
    return [torch.zeros(shape, dtype=dtype, device=device) for _ in range(2 * decoder.num_layers)]


def merge_image_features(
    embeds: torch.Tensor, ids: torch.Tensor, features: torch.Tensor, image_token_id: int
) -> torch.Tensor:
    """Writes features over the image tokens of `ids` (in order), as the engine does."""
    out = embeds.clone()
    mask = ids == image_token_id
    count = int(mask.sum())
    if count != features.shape[0]:
        raise ValueError(f"{count} image tokens but {features.shape[0]} image features")
    out[mask] = features.to(out.dtype)
    return out
