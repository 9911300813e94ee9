"""A stand-in for transformers' Qwen2_5_VLForConditionalGeneration, for testing the exporter where
transformers is not installed (python3 + torch >= 1.13 only).

It has the module tree and parameter names of the transformers >= 4.52 model (model.visual,
model.language_model, lm_head) and computes its outputs the way transformers' code does, written
independently of tools/export/onnx_modules.py: the vision tower reorders patches by window and
runs attention per cu_seqlens segment, get_rope_index walks `<|vision_start|>` markers, text
attention repeats K/V and masks with cache positions. Its forward takes the same keyword
arguments as transformers' (input_ids, attention_mask, pixel_values, image_grid_thw,
past_key_values, cache_position) and returns .logits and .past_key_values, so export.py --check
and golden.py's code paths run on it unchanged.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import List, Optional

import torch
import torch.nn.functional as F
from torch import nn

IMAGE_TOKEN_ID = 151655
VISION_START_TOKEN_ID = 151652


class RMSNorm(nn.Module):
    def __init__(self, size: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.variance_epsilon = eps

    def forward(self, x):
        dtype = x.dtype
        x = x.to(torch.float32)
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.variance_epsilon)
        return self.weight * x.to(dtype)


class SwiGLU(nn.Module):
    def __init__(self, hidden: int, inner: int, bias: bool):
        super().__init__()
        self.gate_proj = nn.Linear(hidden, inner, bias=bias)
        self.up_proj = nn.Linear(hidden, inner, bias=bias)
        self.down_proj = nn.Linear(inner, hidden, bias=bias)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class PatchEmbed(nn.Module):
    def __init__(self, hidden: int):
        super().__init__()
        self.hidden = hidden
        self.proj = nn.Conv3d(3, hidden, kernel_size=(2, 14, 14), stride=(2, 14, 14), bias=False)

    def forward(self, x):
        x = x.view(-1, 3, 2, 14, 14).to(self.proj.weight.dtype)
        return self.proj(x).view(-1, self.hidden)


class VisionRotary(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        inv_freq = 1.0 / (10000.0 ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def forward(self, n: int):
        return torch.outer(torch.arange(n, dtype=torch.float32), self.inv_freq)


class VisionAttention(nn.Module):
    def __init__(self, hidden: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(hidden, 3 * hidden, bias=True)
        self.proj = nn.Linear(hidden, hidden)

    def forward(self, x, cu_seqlens, cos, sin):
        n = x.shape[0]
        q, k, v = self.qkv(x).reshape(n, 3, self.heads, -1).permute(1, 0, 2, 3).unbind(0)

        def rot(t):
            t32 = t.float()
            half = t32.shape[-1] // 2
            rotated = torch.cat((-t32[..., half:], t32[..., :half]), -1)
            return (t32 * cos.unsqueeze(-2) + rotated * sin.unsqueeze(-2)).to(t.dtype)

        q, k = rot(q), rot(k)
        outs = []
        bounds = cu_seqlens.tolist()
        for a, b in zip(bounds[:-1], bounds[1:]):
            qa, ka, va = (t[a:b].transpose(0, 1) for t in (q, k, v))
            w = (qa @ ka.transpose(1, 2)) * qa.shape[-1] ** -0.5
            w = torch.softmax(w.float(), -1).to(qa.dtype)
            outs.append((w @ va).transpose(0, 1))
        return self.proj(torch.cat(outs, 0).reshape(n, -1))


class VisionBlock(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.norm1 = RMSNorm(cfg.hidden_size)
        self.norm2 = RMSNorm(cfg.hidden_size)
        self.attn = VisionAttention(cfg.hidden_size, cfg.num_heads)
        self.mlp = SwiGLU(cfg.hidden_size, cfg.intermediate_size, bias=True)

    def forward(self, x, cu_seqlens, cos, sin):
        x = x + self.attn(self.norm1(x), cu_seqlens, cos, sin)
        return x + self.mlp(self.norm2(x))


class Merger(nn.Module):
    def __init__(self, out: int, hidden: int, merge: int):
        super().__init__()
        self.size = hidden * merge * merge
        self.ln_q = RMSNorm(hidden)
        self.mlp = nn.Sequential(nn.Linear(self.size, self.size), nn.GELU(), nn.Linear(self.size, out))

    def forward(self, x):
        return self.mlp(self.ln_q(x).view(-1, self.size))


class Visual(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.merge = cfg.spatial_merge_size
        self.patch_embed = PatchEmbed(cfg.hidden_size)
        self.rotary_pos_emb = VisionRotary(cfg.hidden_size // cfg.num_heads // 2)
        self.blocks = nn.ModuleList([VisionBlock(cfg) for _ in range(cfg.depth)])
        self.merger = Merger(cfg.out_hidden_size, cfg.hidden_size, cfg.spatial_merge_size)

    def rot_pos_emb(self, grid):
        m = self.merge
        ids = []
        for t, h, w in grid.tolist():
            hpos = torch.arange(h).unsqueeze(1).expand(-1, w).reshape(h // m, m, w // m, m).permute(0, 2, 1, 3)
            wpos = torch.arange(w).unsqueeze(0).expand(h, -1).reshape(h // m, m, w // m, m).permute(0, 2, 1, 3)
            ids.append(torch.stack([hpos.flatten(), wpos.flatten()], -1).repeat(t, 1))
        ids = torch.cat(ids, 0)
        table = self.rotary_pos_emb(int(grid[:, 1:].max()))
        return table[ids].flatten(1)

    def window_index(self, grid):
        m = self.merge
        size = self.cfg.window_size // m // self.cfg.patch_size
        index, cu, offset = [], [0], 0
        for t, h, w in grid.tolist():
            lh, lw = h // m, w // m
            idx = torch.arange(t * lh * lw).reshape(t, lh, lw)
            ph, pw = size - lh % size, size - lw % size
            nh, nw = (lh + ph) // size, (lw + pw) // size
            padded = F.pad(idx, (0, pw, 0, ph), "constant", -100)
            padded = padded.reshape(t, nh, size, nw, size).permute(0, 1, 3, 2, 4).reshape(t, nh * nw, size, size)
            lengths = (padded != -100).sum([2, 3]).reshape(-1)
            flat = padded.reshape(-1)
            index.append(flat[flat != -100] + offset)
            cu.extend((lengths.cumsum(0) * m * m + cu[-1]).tolist())
            offset += t * lh * lw
        return torch.cat(index), cu

    def forward(self, x, grid_thw):
        unit = self.merge * self.merge
        x = self.patch_embed(x)
        rotary = self.rot_pos_emb(grid_thw)
        order, cu_window = self.window_index(grid_thw)
        cu_window = torch.unique_consecutive(torch.tensor(cu_window, dtype=torch.int32))
        n = x.shape[0]
        x = x.reshape(n // unit, unit, -1)[order].reshape(n, -1)
        rotary = rotary.reshape(n // unit, unit, -1)[order].reshape(n, -1)
        emb = torch.cat((rotary, rotary), -1)
        cos, sin = emb.cos(), emb.sin()
        cu = torch.repeat_interleave(grid_thw[:, 1] * grid_thw[:, 2], grid_thw[:, 0]).cumsum(0)
        cu = F.pad(cu, (1, 0), value=0)
        for i, block in enumerate(self.blocks):
            x = block(x, cu if i in self.cfg.fullatt_block_indexes else cu_window, cos, sin)
        x = self.merger(x)
        return x[torch.argsort(order)]


class TextRotary(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg.hidden_size // cfg.num_attention_heads
        inv_freq = 1.0 / (cfg.rope_theta ** (torch.arange(0, d, 2, dtype=torch.float32) / d))
        self.register_buffer("inv_freq", inv_freq, persistent=False)
        self.attention_scaling = 1.0

    def forward(self, x, position_ids):
        inv = self.inv_freq[None, None, :, None].float().expand(3, position_ids.shape[1], -1, 1)
        freqs = (inv @ position_ids[:, :, None, :].float()).transpose(2, 3)
        emb = torch.cat((freqs, freqs), -1)
        return emb.cos().to(x.dtype), emb.sin().to(x.dtype)


class Attention(nn.Module):
    def __init__(self, cfg, layer: int):
        super().__init__()
        self.cfg = cfg
        self.layer = layer
        self.heads = cfg.num_attention_heads
        self.kv_heads = cfg.num_key_value_heads
        self.head_dim = cfg.hidden_size // self.heads
        self.q_proj = nn.Linear(cfg.hidden_size, self.heads * self.head_dim, bias=True)
        self.k_proj = nn.Linear(cfg.hidden_size, self.kv_heads * self.head_dim, bias=True)
        self.v_proj = nn.Linear(cfg.hidden_size, self.kv_heads * self.head_dim, bias=True)
        self.o_proj = nn.Linear(self.heads * self.head_dim, cfg.hidden_size, bias=False)

    def forward(self, x, cos, sin, mask, cache: List):
        b, s, _ = x.shape
        q = self.q_proj(x).view(b, s, -1, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, s, -1, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, s, -1, self.head_dim).transpose(1, 2)
        section = self.cfg.rope_scaling["mrope_section"] * 2
        c = torch.cat([m[i % 3] for i, m in enumerate(cos.split(section, -1))], -1).unsqueeze(1)
        sn = torch.cat([m[i % 3] for i, m in enumerate(sin.split(section, -1))], -1).unsqueeze(1)

        def rot(t):
            half = t.shape[-1] // 2
            return torch.cat((-t[..., half:], t[..., :half]), -1)

        q, k = q * c + rot(q) * sn, k * c + rot(k) * sn
        if len(cache) > self.layer:
            k = torch.cat((cache[self.layer][0], k), 2)
            v = torch.cat((cache[self.layer][1], v), 2)
            cache[self.layer] = (k, v)
        else:
            cache.append((k, v))
        rep = self.heads // self.kv_heads
        k = k[:, :, None].expand(-1, -1, rep, -1, -1).reshape(b, self.heads, -1, self.head_dim)
        v = v[:, :, None].expand(-1, -1, rep, -1, -1).reshape(b, self.heads, -1, self.head_dim)
        w = (q @ k.transpose(2, 3)) * self.head_dim**-0.5 + mask
        w = torch.softmax(w, -1, dtype=torch.float32).to(q.dtype)
        out = (w @ v).transpose(1, 2).reshape(b, s, -1)
        return self.o_proj(out)


class DecoderLayer(nn.Module):
    def __init__(self, cfg, i):
        super().__init__()
        self.self_attn = Attention(cfg, i)
        self.mlp = SwiGLU(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)

    def forward(self, x, cos, sin, mask, cache):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask, cache)
        return x + self.mlp(self.post_attention_layernorm(x))


class TextModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList([DecoderLayer(cfg, i) for i in range(cfg.num_hidden_layers)])
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.rotary_emb = TextRotary(cfg)


class Inner(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.visual = Visual(config.vision_config)
        self.language_model = TextModel(config.text_config)


class Output(SimpleNamespace):
    pass


class MockQwen2_5_VL(nn.Module):
    """See the module docstring. `config` has text_config, vision_config and the token ids."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.model = Inner(config)
        text = config.text_config
        self.lm_head = nn.Linear(text.hidden_size, text.vocab_size, bias=False)
        self.rope_deltas: Optional[torch.Tensor] = None

    def get_image_features(self, pixel_values, image_grid_thw):
        return self.model.visual(pixel_values, image_grid_thw)

    def get_rope_index(self, input_ids, image_grid_thw=None, video_grid_thw=None, attention_mask=None, **_):
        """Qwen2.5-VL position ids for images, walking `<|vision_start|>` markers (batch rows without padding)."""
        m = self.config.vision_config.spatial_merge_size
        positions = torch.ones(3, *input_ids.shape, dtype=torch.int64)
        deltas = []
        grids = image_grid_thw.tolist() if image_grid_thw is not None else []
        image = 0
        for row, ids in enumerate(input_ids.tolist()):
            starts = [i for i, t in enumerate(ids) if t == VISION_START_TOKEN_ID and i + 1 < len(ids)]
            parts, begin = [], 0
            for s in starts:
                if ids[s + 1] != IMAGE_TOKEN_ID:
                    continue
                t, h, w = grids[image]
                image += 1
                lt, lh, lw = t, h // m, w // m
                text_len = s + 1 - begin
                base = parts[-1].max() + 1 if parts else 0
                parts.append(torch.arange(text_len).view(1, -1).expand(3, -1) + base)
                t_index = torch.zeros(lt, lh * lw, dtype=torch.int64).flatten()  # images: time step 0
                h_index = torch.arange(lh).view(1, -1, 1).expand(lt, -1, lw).flatten()
                w_index = torch.arange(lw).view(1, 1, -1).expand(lt, lh, -1).flatten()
                parts.append(torch.stack([t_index, h_index, w_index]) + text_len + base)
                begin = s + 1 + lt * lh * lw
            if begin < len(ids):
                base = parts[-1].max() + 1 if parts else 0
                parts.append(torch.arange(len(ids) - begin).view(1, -1).expand(3, -1) + base)
            pos = torch.cat(parts, 1)
            positions[:, row] = pos
            deltas.append(int(pos.max()) + 1 - len(ids))
        return positions, torch.tensor(deltas).unsqueeze(1)

    def forward(
        self,
        input_ids,
        attention_mask=None,
        pixel_values=None,
        image_grid_thw=None,
        past_key_values=None,
        use_cache=True,
        cache_position=None,
        **_,
    ):
        text = self.model.language_model
        embeds = text.embed_tokens(input_ids)
        if pixel_values is not None:
            features = self.get_image_features(pixel_values, image_grid_thw).to(embeds.dtype)
            mask = (input_ids == IMAGE_TOKEN_ID).unsqueeze(-1).expand_as(embeds)
            embeds = embeds.masked_scatter(mask, features)
        cache = list(past_key_values) if past_key_values is not None else []
        past = cache[0][0].shape[2] if cache else 0
        b, s = input_ids.shape
        if cache_position is None:
            cache_position = torch.arange(past, past + s)
        if cache_position[0] == 0 or self.rope_deltas is None:
            position_ids, self.rope_deltas = self.get_rope_index(input_ids, image_grid_thw)
        else:
            delta = cache_position[0] + self.rope_deltas
            position_ids = (torch.arange(s).view(1, -1).expand(b, -1) + delta).unsqueeze(0).expand(3, -1, -1)
        cos, sin = text.rotary_emb(embeds, position_ids)
        key_pos = torch.arange(past + s)
        mask = torch.zeros(s, past + s, dtype=embeds.dtype)
        mask[key_pos[None, :] > cache_position[:, None]] = torch.finfo(embeds.dtype).min
        x = embeds
        for layer in text.layers:
            x = layer(x, cos, sin, mask[None, None], cache)
        logits = self.lm_head(text.norm(x)).float()
        return Output(logits=logits, past_key_values=cache if use_cache else None)


def tiny_config(hidden: int = 32, vocab: int = 151936, layers: int = 2, vision_depth: int = 2) -> SimpleNamespace:
    """A small configuration in transformers' attribute names (heads of 16 dims, mrope [2, 3, 3])."""
    text = SimpleNamespace(
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=hidden // 16,
        num_key_value_heads=max(1, hidden // 32),
        intermediate_size=2 * hidden,
        vocab_size=vocab,
        rms_norm_eps=1e-6,
        rope_theta=10.0,
        rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]},
        max_position_embeddings=32768,
    )
    vision = SimpleNamespace(
        depth=vision_depth,
        hidden_size=32,
        num_heads=2,
        intermediate_size=64,
        out_hidden_size=hidden,
        patch_size=14,
        temporal_patch_size=2,
        spatial_merge_size=2,
        window_size=112,
        fullatt_block_indexes=[vision_depth - 1],
    )
    config = SimpleNamespace(
        text_config=text,
        vision_config=vision,
        image_token_id=IMAGE_TOKEN_ID,
        vision_start_token_id=VISION_START_TOKEN_ID,
    )
    config.get_text_config = lambda: text
    return config


def random_mock(seed: int = 0, **kwargs) -> MockQwen2_5_VL:
    torch.manual_seed(seed)
    model = MockQwen2_5_VL(tiny_config(**kwargs))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("weight") and p.dim() == 1:
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            else:
                p.copy_(0.2 * torch.randn_like(p))
    return model.eval()
