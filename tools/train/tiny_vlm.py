"""The tiny viewpoint VLM in PyTorch, op for op the graphs of src/model/tiny/graphs.ts.

Matrices are parameters stored [in, out] (y = x W + b), under the HF names the TypeScript
graph builder uses, so export is a plain dump. Everything the ONNX graphs compute is mirrored:
- vision encoder: pixel_values [N, 1176] -> mean over the 2 frames and 2x2 pixels -> [N, 147]
  -> patch embedding -> residual SiLU MLP -> RMSNorm -> 2x2 merge (4 consecutive rows
  concatenated) -> + [x, y] W_pos (merged-token centre in [-1, 1], from the grid) -> SiLU MLP;
- embed_tokens: token id -> compact row (ids outside the compact vocabulary share the last row);
- decoder: Qwen2 layers (RMSNorm, q/k/v with bias, M-RoPE, grouped-query attention, SwiGLU),
  final RMSNorm, compact lm_head, logits of the other ids a constant OTHER_LOGIT.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
MASKED_SCORE = -3.4028234663852886e38
# torch >= 2.0: softmax(q k^T / sqrt(hd), masked) v in one kernel (faster, backward included);
# Debian 12's torch 1.13 has no such kernel and keeps the three ops.
FUSED_ATTENTION = hasattr(F, "scaled_dot_product_attention")
OTHER_LOGIT = -1.0e4
VISION_EPS = 1e-6


@dataclass
class Dims:
    """Mirrors TinyModelDimensions (src/model/tiny/config.ts), camelCase names on export."""

    hiddenSize: int = 64
    numLayers: int = 4
    numHeads: int = 2
    numKvHeads: int = 1
    headDim: int = 32
    intermediateSize: int = 192
    vocabSize: int = 151936
    ropeTheta: float = 10.0
    ropeFrequencies: list | None = None
    mropeSection: list = field(default_factory=lambda: [2, 4, 10])
    rmsNormEps: float = 1e-6
    patchInputSize: int = 1176
    visionHiddenSize: int = 64
    visionIntermediateSize: int = 128
    spatialMergeSize: int = 2
    patchPool: int = 2
    visionPositions: bool = True

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @property
    def pooled_patch(self) -> int:
        if self.patchPool <= 1:
            return self.patchInputSize
        side = 14 // self.patchPool
        return 3 * side * side


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    # Same order as the ONNX graph: x / sqrt(mean(x^2) + eps) * w.
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * weight


def mrope_table(d: Dims) -> torch.Tensor:
    """[3, head_dim]: entry (row, j) = inv_freq[j mod hd/2] if that frequency belongs to the row."""
    half = d.headDim // 2
    table = torch.zeros(3, d.headDim, dtype=torch.float64)
    for j in range(d.headDim):
        f = j % half
        inv = d.ropeFrequencies[f] if d.ropeFrequencies else 1.0 / (d.ropeTheta ** ((2 * f) / d.headDim))
        row, end = 0, d.mropeSection[0]
        while f >= end:
            row += 1
            end += d.mropeSection[row]
        table[row, j] = inv
    return table.float()


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rotated * sin


class TinyVLM(nn.Module):
    def __init__(self, d: Dims, vocabulary_ids: list[int], seed: int = 0):
        super().__init__()
        self.d = d
        self.vocabulary_ids = list(vocabulary_ids)
        k = len(self.vocabulary_ids)
        g = torch.Generator().manual_seed(seed)
        params: dict[str, nn.Parameter] = {}

        def matrix(name: str, fan_in: int, fan_out: int, gain: float = 1.0) -> None:
            std = gain / math.sqrt(fan_in)
            params[name] = nn.Parameter(torch.randn(fan_in, fan_out, generator=g) * std)

        def vector(name: str, size: int, value: float = 0.0) -> None:
            params[name] = nn.Parameter(torch.full((size,), value))

        dv, h, window = d.visionHiddenSize, d.hiddenSize, d.spatialMergeSize**2
        residual_gain = 1.0 / math.sqrt(2 * d.numLayers)
        matrix("visual.patch_embed.proj.weight", d.pooled_patch, dv)
        vector("visual.patch_embed.proj.bias", dv)
        matrix("visual.blocks.0.mlp.fc1.weight", dv, d.visionIntermediateSize)
        vector("visual.blocks.0.mlp.fc1.bias", d.visionIntermediateSize)
        matrix("visual.blocks.0.mlp.fc2.weight", d.visionIntermediateSize, dv, 0.5)
        vector("visual.blocks.0.mlp.fc2.bias", dv)
        vector("visual.merger.ln_q.weight", dv, 1.0)
        matrix("visual.merger.mlp.0.weight", window * dv, window * dv)
        vector("visual.merger.mlp.0.bias", window * dv)
        matrix("visual.merger.mlp.2.weight", window * dv, h)
        vector("visual.merger.mlp.2.bias", h)
        if d.visionPositions:
            matrix("visual.pos_embed.weight", 2, window * dv, 2.0)
        params["model.embed_tokens.weight"] = nn.Parameter(torch.randn(k + 1, h, generator=g))
        q_dim, kv_dim = d.numHeads * d.headDim, d.numKvHeads * d.headDim
        for i in range(d.numLayers):
            p = f"model.layers.{i}"
            vector(f"{p}.input_layernorm.weight", h, 1.0)
            matrix(f"{p}.self_attn.q_proj.weight", h, q_dim)
            vector(f"{p}.self_attn.q_proj.bias", q_dim)
            matrix(f"{p}.self_attn.k_proj.weight", h, kv_dim)
            vector(f"{p}.self_attn.k_proj.bias", kv_dim)
            matrix(f"{p}.self_attn.v_proj.weight", h, kv_dim)
            vector(f"{p}.self_attn.v_proj.bias", kv_dim)
            matrix(f"{p}.self_attn.o_proj.weight", q_dim, h, residual_gain)
            vector(f"{p}.post_attention_layernorm.weight", h, 1.0)
            matrix(f"{p}.mlp.gate_proj.weight", h, d.intermediateSize)
            matrix(f"{p}.mlp.up_proj.weight", h, d.intermediateSize)
            matrix(f"{p}.mlp.down_proj.weight", d.intermediateSize, h, residual_gain)
        vector("model.norm.weight", h, 1.0)
        matrix("lm_head.weight", h, k)
        # ParameterDict keys cannot contain '.', so keep our own ordered mapping.
        self._names = list(params)
        self.params = nn.ParameterList([params[n] for n in self._names])
        self._index = {n: i for i, n in enumerate(self._names)}
        self.register_buffer("rope_table", mrope_table(d), persistent=False)
        lookup = torch.full((d.vocabSize,), k, dtype=torch.long)
        lookup[torch.tensor(self.vocabulary_ids)] = torch.arange(k)
        self.register_buffer("compact_index", lookup, persistent=False)

    @torch.no_grad()
    def init_matching(self, layer: int, offset: int, shifts: list[int], gain: float = 3.0) -> None:
        """Starts `layer`'s attention as a content match between the two images: every head's keys and
        queries are the same projection of the token (keys shared, as GQA shares them), and each
        query head is turned by the rotary angle of (offset, offset, offset + shift), so that a
        token of the second image (`offset` positions after the first on every M-RoPE row) attends
        most to the first image's tokens that look like it and sit `shift` columns away. Training
        then only has to read these matches out rather than discover them."""
        d = self.d
        g = torch.Generator().manual_seed(1234 + layer)
        p = f"model.layers.{layer}.self_attn"
        shared = torch.randn(d.hiddenSize, d.numKvHeads * d.headDim, generator=g) * (gain / math.sqrt(d.hiddenSize))
        self.w(f"{p}.k_proj.weight").copy_(shared)
        self.w(f"{p}.k_proj.bias").zero_()
        self.w(f"{p}.q_proj.bias").zero_()
        groups = d.numHeads // d.numKvHeads
        q = torch.zeros(d.hiddenSize, d.numHeads * d.headDim)
        for head in range(d.numHeads):
            kv = head // groups
            block = shared[:, kv * d.headDim:(kv + 1) * d.headDim]
            shift = shifts[head % len(shifts)]
            angles = -torch.tensor([offset, offset, offset + shift], dtype=torch.float32) @ self.rope_table
            q[:, head * d.headDim:(head + 1) * d.headDim] = rotate(block, torch.cos(angles), torch.sin(angles))
        self.w(f"{p}.q_proj.weight").copy_(q)

    @torch.no_grad()
    def init_gather(self, layer: int, kv_head: int, offsets: list[tuple[int, int, int]], gain: float) -> None:
        """Starts the query heads of `kv_head`'s group in `layer` as position-only lookups: the group's
        keys are one constant vector (k_proj bias, weights zero) and query head g is that vector
        turned back by the rotary angle of offsets[g] (t, h, w), so head g attends to the token
        exactly that far behind it on every M-RoPE row (e.g. the first image's token in the same
        row, `dc` columns over, seen from the second image). Position-free (frequency 0) pairs are
        left out. Values stay learned: each head copies what its neighbour shows."""
        d = self.d
        p = f"model.layers.{layer}.self_attn"
        groups = d.numHeads // d.numKvHeads
        half = d.headDim // 2
        table = self.rope_table  # [3, head_dim]
        rotating = (table.abs().sum(0) > 0).float()  # dims that rotate
        constant = torch.zeros(d.headDim)
        constant[:half] = gain  # (x, 0) in every pair: both halves of a pair are j and j + half
        constant = constant * rotating
        ks = slice(kv_head * d.headDim, (kv_head + 1) * d.headDim)
        self.w(f"{p}.k_proj.weight")[:, ks] = 0
        self.w(f"{p}.k_proj.bias")[ks] = constant
        for g, offset in enumerate(offsets[:groups]):
            head = kv_head * groups + g
            qs = slice(head * d.headDim, (head + 1) * d.headDim)
            angles = -torch.tensor(offset, dtype=torch.float32) @ table
            self.w(f"{p}.q_proj.weight")[:, qs] = 0
            self.w(f"{p}.q_proj.bias")[qs] = rotate(constant, torch.cos(angles), torch.sin(angles))

    @torch.no_grad()
    def init_position_channels(self, scale: float = 8.0, bias: float = 12.0) -> None:
        """Starts the vision tower with the last two decoder-width channels of every image token equal
        to 2x and 2y of its grid position (in [-1, 1]): the position embedding writes x and y into
        two merger inputs (whose patch features are turned down), two merger units carry them in
        SiLU's linear range, and the output layer copies them out alone. Attention values can then
        read where a matched token sits (`init_row_match`)."""
        d, w, h = self.d, self.w, self.d.hiddenSize
        if not d.visionPositions:
            raise ValueError("init_position_channels needs visionPositions")
        pos = w("visual.pos_embed.weight")
        pos.zero_()
        pos[0, 0], pos[1, 1] = scale, scale
        w("visual.merger.ln_q.weight")[0:2] = 0.05
        w0, b0 = w("visual.merger.mlp.0.weight"), w("visual.merger.mlp.0.bias")
        w0[:, 0:2] = 0
        w0[0, 0], w0[1, 1] = 1.0, 1.0
        w0[0:2, 2:] *= 0.05
        b0[0:2] = bias
        w2, b2 = w("visual.merger.mlp.2.weight"), w("visual.merger.mlp.2.bias")
        w2[0:2, :] = 0
        w2[:, h - 2:] = 0
        w2[0, h - 2], w2[1, h - 1] = 2 / scale, 2 / scale
        b2[h - 2:] = -2 * bias / scale

    @torch.no_grad()
    def init_row_match(self, layer: int, kv_head: int, offset: int, row_shifts: list[int], position_gain: float,
                       content_gain: float, readout: int) -> None:
        """Starts the query heads of `kv_head`'s group in `layer` as content matches along rows of the
        first image, seen from the second (`offset` positions after the first on every M-RoPE row):
        the t and h rotary pairs of keys and queries are constants turned so that head g scores
        highest on the first image's tokens `row_shifts[g]` rows above, in any column; the
        position-free pairs hold one shared random projection of the token (not of its position
        channels) for keys and queries alike, so among those tokens the ones that look alike win.
        Values read the position channels (`init_position_channels`), and head `readout` writes
        minus the matched position onto them: after the layer they hold the token's own position
        minus where it was found in the first image, which is the flow the task turns on."""
        d, w = self.d, self.w
        p = f"model.layers.{layer}.self_attn"
        groups = d.numHeads // d.numKvHeads
        half = d.headDim // 2
        table = self.rope_table
        free = table.abs().sum(0) == 0
        constant = torch.zeros(d.headDim)
        constant[:half] = position_gain
        constant = constant * ((table[0].abs() + table[1].abs()) > 0).float()
        g = torch.Generator().manual_seed(4321 + layer)
        content = torch.randn(d.hiddenSize, int(free.sum()), generator=g) * (content_gain / math.sqrt(d.hiddenSize))
        content[-2:] = 0
        base = kv_head * d.headDim
        keys = torch.zeros(d.hiddenSize, d.headDim)
        keys[:, free] = content
        w(f"{p}.k_proj.weight")[:, base:base + d.headDim] = keys
        w(f"{p}.k_proj.bias")[base:base + d.headDim] = constant
        values = w(f"{p}.v_proj.weight")
        values[:, base:base + d.headDim] = 0
        w(f"{p}.v_proj.bias")[base:base + d.headDim] = 0
        values[d.hiddenSize - 2, base], values[d.hiddenSize - 1, base + 1] = 1.0, 1.0
        out = w(f"{p}.o_proj.weight")
        for index, shift in enumerate(row_shifts[:groups]):
            head = kv_head * groups + index
            qs = slice(head * d.headDim, (head + 1) * d.headDim)
            angles = -torch.tensor([offset, offset + shift, 0], dtype=torch.float32) @ table
            w(f"{p}.q_proj.weight")[:, qs] = keys
            w(f"{p}.q_proj.bias")[qs] = rotate(constant, torch.cos(angles), torch.sin(angles))
            out[qs, :] = 0
            if index == readout:
                out[head * d.headDim, d.hiddenSize - 2] = -1.0
                out[head * d.headDim + 1, d.hiddenSize - 1] = -1.0

    def w(self, name: str) -> torch.Tensor:
        return self.params[self._index[name]]

    def named_weights(self) -> list[tuple[str, torch.Tensor]]:
        return [(n, self.params[i]) for i, n in enumerate(self._names)]

    # ---------------------------------------------------------------- vision

    def vision_from_pooled(self, patches: torch.Tensor, grid_hw: tuple[int, int]) -> torch.Tensor:
        """patches [..., N, 147] (normalised, pooled, merge order) -> image features [..., N/4, hidden]."""
        d, w = self.d, self.w
        x = patches @ w("visual.patch_embed.proj.weight") + w("visual.patch_embed.proj.bias")
        hidden = F.silu(x @ w("visual.blocks.0.mlp.fc1.weight") + w("visual.blocks.0.mlp.fc1.bias"))
        x = x + (hidden @ w("visual.blocks.0.mlp.fc2.weight") + w("visual.blocks.0.mlp.fc2.bias"))
        x = rms_norm(x, w("visual.merger.ln_q.weight"), VISION_EPS)
        window = d.spatialMergeSize**2
        x = x.reshape(*x.shape[:-2], x.shape[-2] // window, window * d.visionHiddenSize)
        if d.visionPositions:
            # Before the merger MLP, so it can mix what a token shows with where it is.
            x = x + merged_coordinates(*grid_hw, d.spatialMergeSize).to(x) @ w("visual.pos_embed.weight")
        x = F.silu(x @ w("visual.merger.mlp.0.weight") + w("visual.merger.mlp.0.bias"))
        return x @ w("visual.merger.mlp.2.weight") + w("visual.merger.mlp.2.bias")

    def vision_from_pixel_values(self, pixel_values: torch.Tensor, grid_hw: tuple[int, int]) -> torch.Tensor:
        """The ONNX path: pixel_values [N, 1176] of one image -> [N/4, hidden]."""
        n = pixel_values.shape[0]
        if self.d.patchPool <= 1:
            return self.vision_from_pooled(pixel_values, grid_hw)
        side = 14 // self.d.patchPool
        pooled = pixel_values.reshape(n, 3, 2, side, self.d.patchPool, side, self.d.patchPool).mean(dim=(2, 4, 6))
        return self.vision_from_pooled(pooled.reshape(n, -1), grid_hw)

    # ---------------------------------------------------------------- text

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        return self.w("model.embed_tokens.weight")[self.compact_index[ids]]

    def compact(self, ids: torch.Tensor) -> torch.Tensor:
        return self.compact_index[ids]

    # ---------------------------------------------------------------- decoder

    def _rotary(self, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """positions [..., S, 3] float -> cos, sin [..., S, head_dim]."""
        angles = positions @ self.rope_table
        return torch.cos(angles), torch.sin(angles)

    def _qkv(self, i: int, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor):
        d, w = self.d, self.w
        p = f"model.layers.{i}"
        h = rms_norm(x, w(f"{p}.input_layernorm.weight"), d.rmsNormEps)

        def heads(t: torch.Tensor, count: int) -> torch.Tensor:
            return t.reshape(*t.shape[:-1], count, d.headDim).transpose(-2, -3)  # [..., heads, S, hd]

        q = heads(h @ w(f"{p}.self_attn.q_proj.weight") + w(f"{p}.self_attn.q_proj.bias"), d.numHeads)
        k = heads(h @ w(f"{p}.self_attn.k_proj.weight") + w(f"{p}.self_attn.k_proj.bias"), d.numKvHeads)
        v = heads(h @ w(f"{p}.self_attn.v_proj.weight") + w(f"{p}.self_attn.v_proj.bias"), d.numKvHeads)
        cos, sin = cos.unsqueeze(-3), sin.unsqueeze(-3)
        return rotate(q, cos, sin), rotate(k, cos, sin), v

    def _mlp(self, i: int, x: torch.Tensor) -> torch.Tensor:
        d, w = self.d, self.w
        p = f"model.layers.{i}"
        m = rms_norm(x, w(f"{p}.post_attention_layernorm.weight"), d.rmsNormEps)
        gated = F.silu(m @ w(f"{p}.mlp.gate_proj.weight")) * (m @ w(f"{p}.mlp.up_proj.weight"))
        return x + gated @ w(f"{p}.mlp.down_proj.weight")

    def _merge_heads(self, context: torch.Tensor) -> torch.Tensor:
        t = context.transpose(-2, -3)
        return t.reshape(*t.shape[:-2], self.d.numHeads * self.d.headDim)

    def _attend(self, q, keys, values, allowed) -> torch.Tensor:
        """q [.., H, S, hd]; keys/values [.., KV, T, hd]; allowed broadcastable to [.., H, S, T]."""
        d = self.d
        groups = d.numHeads // d.numKvHeads
        if groups > 1:
            # expand + reshape, not repeat_interleave: same layout, and a backward that sums instead
            # of index_add (14 % of a CPU training step).
            def repeated(t: torch.Tensor) -> torch.Tensor:
                lead, (kv, length, width) = t.shape[:-3], t.shape[-3:]
                return t.unsqueeze(-3).expand(*lead, kv, groups, length, width).reshape(*lead, kv * groups, length, width)

            keys, values = repeated(keys), repeated(values)
        if FUSED_ATTENTION:
            # Every row keeps its own token, so no row is all masked and both ways agree
            # (tests/test_attention.py).
            return F.scaled_dot_product_attention(q, keys, values, attn_mask=allowed)
        scores = (q @ keys.transpose(-1, -2)) * (1.0 / math.sqrt(d.headDim))
        scores = scores.masked_fill(~allowed, MASKED_SCORE)
        return torch.softmax(scores, dim=-1) @ values

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Compact logits [..., K] of hidden states [..., hidden]."""
        x = rms_norm(x, self.w("model.norm.weight"), self.d.rmsNormEps)
        return x @ self.w("lm_head.weight")

    def full_logits(self, compact_logits: torch.Tensor) -> torch.Tensor:
        """Compact logits -> the vocabulary-sized logits the ONNX decoder returns."""
        other = torch.full((*compact_logits.shape[:-1], 1), OTHER_LOGIT, dtype=compact_logits.dtype,
                           device=compact_logits.device)
        return torch.cat([compact_logits, other], dim=-1)[..., self.compact_index]

    def forward_sequence(self, embeds: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """Plain causal pass (the ONNX decoder with an empty cache): embeds [B, S, H], positions [3, B, S]
        -> hidden states [B, S, H] after the last layer (before the final norm)."""
        cos, sin = self._rotary(positions.permute(1, 2, 0).float())
        s = embeds.shape[1]
        allowed = torch.ones(s, s, dtype=torch.bool, device=embeds.device).tril()
        x = embeds
        for i in range(self.d.numLayers):
            q, k, v = self._qkv(i, x, cos, sin)
            context = self._attend(q, k, v, allowed)
            x = x + self._merge_heads(context) @ self.w(f"model.layers.{i}.self_attn.o_proj.weight")
            x = self._mlp(i, x)
        return x

    def forward_packed(self, prefix: torch.Tensor, prefix_positions: torch.Tensor, blocks: torch.Tensor,
                       block_positions: torch.Tensor, capture: int | None = None):
        """Questions that share a prefix, in one pass; exactly the separate causal passes.

        prefix [B, P, H] with positions [P, 3]; blocks [B, Q, L, H] with positions [L, 3] (every block
        continues the prefix on its own). Returns the hidden states of the prefix [B, P, H] after
        `capture` layers (default: all) and of the blocks [B, Q, L, H] after the last layer."""
        d = self.d
        p_len, q_count, l_len = prefix.shape[1], blocks.shape[1], blocks.shape[2]
        p_cos, p_sin = self._rotary(prefix_positions.float())
        b_cos, b_sin = self._rotary(block_positions.float())
        dev = prefix.device
        causal_prefix = torch.ones(p_len, p_len, dtype=torch.bool, device=dev).tril()
        # Block token j sees the whole prefix and block tokens 0..j.
        allowed_block = torch.cat([torch.ones(l_len, p_len, dtype=torch.bool, device=dev),
                                   torch.ones(l_len, l_len, dtype=torch.bool, device=dev).tril()], dim=1)
        x, y = prefix, blocks
        captured = x if capture == 0 else None
        for i in range(d.numLayers):
            pq, pk, pv = self._qkv(i, x, p_cos, p_sin)  # [B, heads, P, hd]
            bq, bk, bv = self._qkv(i, y, b_cos, b_sin)  # [B, Q, heads, L, hd]
            p_context = self._attend(pq, pk, pv, causal_prefix)
            keys = torch.cat([pk.unsqueeze(1).expand(-1, q_count, -1, -1, -1), bk], dim=-2)
            values = torch.cat([pv.unsqueeze(1).expand(-1, q_count, -1, -1, -1), bv], dim=-2)
            b_context = self._attend(bq, keys, values, allowed_block)
            o = self.w(f"model.layers.{i}.self_attn.o_proj.weight")
            x = self._mlp(i, x + self._merge_heads(p_context) @ o)
            y = self._mlp(i, y + self._merge_heads(b_context) @ o)
            if capture == i + 1:
                captured = x
        return (x if captured is None else captured), y


def merged_coordinates(grid_h: int, grid_w: int, merge: int = 2) -> torch.Tensor:
    """[Hb*Wb, 2]: (x, y) of each merged token's centre in [-1, 1], raster order (as the ONNX graph)."""
    hb, wb = grid_h // merge, grid_w // merge
    m = torch.arange(hb * wb)
    col, row = m % wb, (m // wb) % hb
    x = (2 * col + 1).float() / wb - 1
    y = (2 * row + 1).float() / hb - 1
    return torch.stack([x, y], dim=-1)


def normalize_pooled(pooled_sums: torch.Tensor) -> torch.Tensor:
    """uint16 sums of 2x2 rgb8 blocks [..., h, w, 3] -> CLIP-normalised means, float32."""
    mean = torch.tensor(CLIP_MEAN, device=pooled_sums.device)
    std = torch.tensor(CLIP_STD, device=pooled_sums.device)
    return ((pooled_sums.float() / 4.0) / 255.0 - mean) / std


def pooled_to_patches(image: torch.Tensor, side: int = 7, merge: int = 2) -> torch.Tensor:
    """Normalised pooled image [..., H, W, 3] -> patches [..., N, 3*side*side] in the encoder's row order
    (2x2 merge windows in raster order, each window's patches row-major; patch values (c, y, x))."""
    *lead, h, w, c = image.shape
    hb, wb = h // (side * merge), w // (side * merge)
    x = image.reshape(*lead, hb, merge, side, wb, merge, side, c)
    n = len(lead)
    # -> [..., hb, wb, mh, mw, c, y, x]
    perm = list(range(n)) + [n + 0, n + 3, n + 1, n + 4, n + 6, n + 2, n + 5]
    x = x.permute(*perm)
    return x.reshape(*lead, hb * wb * merge * merge, c * side * side)


def mrope_prefix_positions(prefix_len: int, between_len: int, merged_h: int, merged_w: int):
    """Positions [P, 3] of prefix + image 1 + between + image 2, and the next text position."""
    rows: list[list[int]] = []
    nxt = 0
    for _ in range(prefix_len):
        rows.append([nxt, nxt, nxt])
        nxt += 1
    for image in range(2):
        off = nxt
        for k in range(merged_h * merged_w):
            rows.append([off, off + k // merged_w, off + k % merged_w])
        nxt = off + max(1, merged_h, merged_w)
        if image == 0:
            for _ in range(between_len):
                rows.append([nxt, nxt, nxt])
                nxt += 1
    return torch.tensor(rows, dtype=torch.long), nxt
