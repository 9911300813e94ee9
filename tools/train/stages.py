#!/usr/bin/env python3
"""Staged training of the tiny viewpoint VLM (see tools/train/README.md).

Stage `vision` trains the image pathway alone: the vision tower and the first --vision-layers
decoder layers, over [system prefix, image 1, between, image 2, <|vision_end|>] only, with three
signals: the camera motion (ego translation and yaw labels, and their sizes) read from the
<|vision_end|> token after image 2, and where each token of image 2 shows in image 1 (dense flow,
from the token states after the first layer). Layer 0 starts with position-only heads that look
up the first image's token in the same row, -2..2 columns over (M-RoPE offsets), and with content
matches along rows of the first image that write the flow onto two position channels of the
vision tower (`TinyVLM.init_position_channels`, `init_row_match`), so the fusion of the two views
starts aligned and the correspondences start readable.

Stage `text` freezes all of that and trains the remaining layers, the final norm and lm_head on
the full prompts (both system prompts, both answer formats, all option orders): reading the
motion summary at <|vision_end|>, the question and the option order, and answering with the
letter.

  python3 tools/train/stages.py vision --data DIR [DIR ...] --val DIR --run RUN [--steps N] [--device cuda]
  python3 tools/train/stages.py text --data DIR [DIR ...] --val DIR --run RUN [--steps N] [--device cuda]
  python3 tools/train/train.py export --run RUN --out WEIGHTS_DIR
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tiny_vlm import Dims, TinyVLM, mrope_prefix_positions, normalize_pooled, pooled_to_patches  # noqa: E402
from train import (  # noqa: E402
    KINDS,
    AuxHeads,
    Data,
    Prompts,
    evaluate,
    load_checkpoint,
    loss_of,
    make_batch,
    save_checkpoint,
)

FREQUENCIES = [2.9764, 2.4487, 1.858]
POSITION_FREE_PAIRS = 3


def default_dims() -> Dims:
    return Dims(hiddenSize=64, numLayers=6, numHeads=10, numKvHeads=2, headDim=24, intermediateSize=128,
                ropeTheta=10.0, ropeFrequencies=[0.0] * POSITION_FREE_PAIRS + FREQUENCIES * 3,
                mropeSection=[POSITION_FREE_PAIRS + len(FREQUENCIES), len(FREQUENCIES), len(FREQUENCIES)],
                visionHiddenSize=64, visionIntermediateSize=128, visionPositions=True, patchPool=2)


class MotionHead(torch.nn.Module):
    """Training-only: ego translation and yaw labels (3 + 3 logits) and their sizes (2) from one state."""

    def __init__(self, hidden: int):
        super().__init__()
        self.labels = torch.nn.Linear(hidden, 6)
        self.sizes = torch.nn.Linear(hidden, 2)
        self.flow = torch.nn.Linear(hidden, 3)


def cosine_lr(step: int, total: int, peak: float, warmup: int) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


class PairSampler:
    """Batches of augmented training pairs, built with tensor ops on `device` (the whole set is copied
    there once: 1.8 GB of float16 for 12,000 pairs on a GPU; on the CPU rows are read from the
    memory-mapped shards per batch). Swap exchanges the two images and takes the reverse-direction
    labels and flow; flip mirrors both images, left and right labels and the flow's x."""

    def __init__(self, data: Data, device: str):
        self.device = device
        self.count = len(data)
        on_gpu = device != "cpu"

        def joined(part) -> np.ndarray:
            return np.concatenate([part(s) for s in data.shards])

        self.images = (torch.cat([torch.from_numpy(np.asarray(s.images, dtype=np.float16)) for s in data.shards])
                       .to(device) if on_gpu else None)
        self.data = data
        # labels.u8 column 4 indexes meta.json's motionKinds.
        self.motion_kinds: list[str] = data.shards[0].meta["motionKinds"]
        self.labels = torch.from_numpy(joined(lambda s: s.labels).astype(np.int64)).to(device)
        self.geometry = torch.from_numpy(joined(
            lambda s: s.geometry if s.geometry is not None else np.zeros((len(s.labels), 4), np.float32))).to(device)
        self.flow = torch.from_numpy(joined(
            lambda s: s.flow if s.flow is not None else np.zeros((len(s.labels), 2, 64, 3), np.float32))).to(device)

    def kinds(self, indices: np.ndarray) -> torch.Tensor:
        """The motion kind of each pair (index into `motion_kinds`)."""
        return self.labels[torch.from_numpy(np.asarray(indices, dtype=np.int64)).to(self.device), 4]

    def batch(self, indices: np.ndarray, swap: np.ndarray, flip: np.ndarray, side: int):
        """Pooled patches [B, 2, 256, 147], labels [B, 2] (ego, yaw), sizes [B, 2], flow [B, 64, 3]."""
        idx = torch.from_numpy(np.asarray(indices, dtype=np.int64)).to(self.device)
        sw = torch.from_numpy(np.asarray(swap, dtype=bool)).to(self.device)
        fl = torch.from_numpy(np.asarray(flip, dtype=bool)).to(self.device)
        if self.images is not None:
            images = self.images[idx].float()
        else:
            images = torch.from_numpy(np.stack([self.data.pair(int(k))[0] for k in indices]).astype(np.float32))
        images = torch.where(sw[:, None, None, None, None], images.flip(1), images)
        images = torch.where(fl[:, None, None, None, None], images.flip(3), images)
        raw = self.labels[idx]
        ego = torch.where(sw, raw[:, 2], raw[:, 0])
        yaw = torch.where(sw, raw[:, 3], raw[:, 1])
        labels = torch.stack([ego, yaw], -1)
        labels = torch.where(fl[:, None], 2 - labels, labels)
        g = self.geometry[idx]
        yaw_deg = torch.where(sw, g[:, 2], g[:, 0])
        tx = torch.where(sw, g[:, 3], g[:, 1])
        sign = torch.where(fl, -1.0, 1.0).double()
        sizes = torch.stack([sign * yaw_deg.double() / 30.0, sign * tx.double() / 0.5], -1).float()
        flow = torch.where(sw[:, None, None], self.flow[idx, 1], self.flow[idx, 0]).reshape(-1, 8, 8, 3)
        mirrored = flow.flip(2) * torch.tensor([-1.0, 1.0, 1.0], device=self.device)
        flow = torch.where(fl[:, None, None, None], mirrored, flow).reshape(-1, 64, 3)
        patches = pooled_to_patches(normalize_pooled(images), side=side)
        return patches, labels, sizes, flow


def draw_pairs(rng: np.random.Generator, count: int, size: int, per_pair=None):
    """Random pair indices and swap / flip choices, drawn in the order the bundled model's training
    drew them (indices, then swap and flip pair by pair, then whatever `per_pair()` draws)."""
    indices = rng.integers(count, size=size)
    swap, flip, extra = np.zeros(size, dtype=bool), np.zeros(size, dtype=bool), []
    for i in range(size):
        swap[i], flip[i] = bool(rng.integers(2)), bool(rng.integers(2))
        if per_pair is not None:
            extra.append(per_pair())
    return (indices, swap, flip, extra) if per_pair is not None else (indices, swap, flip)


def swap_consistency(logits: torch.Tensor) -> torch.Tensor:
    """Symmetric KL between each pair's answers [ego, yaw] x 3 and the mirrored answers of the same
    pair with its images swapped (rows `i` and `half + i` of a paired batch). The generator's reverse
    labels are always the mirror of the forward ones (left <-> right, none stays), so this agrees
    with the labels."""
    half = logits.shape[0] // 2
    forward = F.log_softmax(logits[:half].reshape(half, 2, 3), -1)
    backward = F.log_softmax(logits[half:].reshape(half, 2, 3), -1).flip(-1)
    kl = F.kl_div(backward, forward, log_target=True, reduction="none").sum(-1) \
        + F.kl_div(forward, backward, log_target=True, reduction="none").sum(-1)
    return 0.5 * kl.mean()


def vision_forward(model: TinyVLM, prompts: Prompts, patches: torch.Tensor, system: int, layers: int):
    """States after `layers` layers of [prefix, image 1, between, image 2, <|vision_end|>], and the
    image-2 token states after the first layer."""
    s = prompts.systems[system]
    b, device = patches.shape[0], patches.device
    features = model.vision_from_pooled(patches, (2 * prompts.merged_h, 2 * prompts.merged_w))
    vision_end = prompts.questions[0]["block"][0]

    def embedded(ids: list[int]) -> torch.Tensor:
        return model.embed(torch.tensor(ids, device=device)).expand(b, -1, -1)

    x = torch.cat([embedded(s["prefix"]), features[:, 0], embedded(s["between"]), features[:, 1],
                   embedded([vision_end])], dim=1)
    positions, nxt = mrope_prefix_positions(len(s["prefix"]), len(s["between"]), prompts.merged_h, prompts.merged_w)
    positions = torch.cat([positions, torch.tensor([[nxt, nxt, nxt]])]).to(device)
    cos, sin = model._rotary(positions.float())
    allowed = torch.ones(len(positions), len(positions), dtype=torch.bool, device=device).tril()
    n2 = features.shape[2]
    after_first = None
    for i in range(layers):
        q, k, v = model._qkv(i, x, cos, sin)
        context = model._attend(q, k, v, allowed)
        x = x + model._merge_heads(context) @ model.w(f"model.layers.{i}.self_attn.o_proj.weight")
        x = model._mlp(i, x)
        if i == 0:
            after_first = x[:, -1 - n2:-1]
    return x, after_first


def stage_vision(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    os.makedirs(args.run, exist_ok=True)
    data, val = Data(args.data), Data([args.val])
    dims = default_dims()
    torch.manual_seed(args.seed)
    model = TinyVLM(dims, data.prompts["vocabulary"], seed=args.seed)
    prompts = Prompts(data.prompts, model)
    offset = max(1, prompts.merged_h, prompts.merged_w) + len(data.prompts["systems"][0]["between"])
    model.init_gather(0, 0, [(offset, offset, offset + dc) for dc in (-2, -1, 0, 1, 2)], args.gather_gain)
    if args.match_gain > 0:
        model.init_position_channels()
        model.init_row_match(0, 1, offset, [-2, -1, 0, 1, 2], args.match_gain, args.match_content_gain, readout=2)
    model.to(args.device)
    head = MotionHead(dims.hiddenSize).to(args.device)
    sampler, val_sampler = PairSampler(data, args.device), PairSampler(val, args.device)
    side = 14 // dims.patchPool
    trained = [p for n, p in model.named_weights() if n.startswith("visual.") or n == "model.embed_tokens.weight"
               or any(n.startswith(f"model.layers.{i}.") for i in range(args.vision_layers))]
    optimizer = torch.optim.AdamW([{"params": trained + list(head.parameters())}], lr=args.lr, weight_decay=0.01)
    rng = np.random.default_rng(args.seed)
    orbit = sampler.motion_kinds.index("orbit")
    history, started, first_step = [], time.monotonic(), 1
    path = os.path.join(args.run, "vision.pt")
    saved = resumable(args, path, "vision", lambda c: "optimizer" in c)
    if saved is not None:
        history, first_step = restore(saved, model, head, saved["head"], optimizer, rng)
        args.command_line = f"{saved['command']} && {args.command_line}"
        started -= history[-1]["elapsed"] if history else 0.0
    print(f"vision stage: {sum(p.numel() for p in trained)} trained parameters, {len(data)} pairs", flush=True)
    # Validation keeps the eager function: its batches have other shapes.
    forward = torch.compile(vision_forward, dynamic=False) if args.compile else vision_forward
    running = None
    for step in range(first_step, min(args.steps, args.stop_after or args.steps) + 1):
        for g in optimizer.param_groups:
            g["lr"] = cosine_lr(step - 1, args.steps, args.lr, 100)
        system = 1 if rng.random() < args.actial_share else 0
        if args.paired_swaps:
            indices, swap, flip = draw_pairs(rng, len(data), args.batch // 2)
            indices, swap, flip = np.concatenate([indices, indices]), np.concatenate([swap, ~swap]), np.concatenate([flip, flip])
        else:
            indices, swap, flip = draw_pairs(rng, len(data), args.batch)
        patches, labels, sizes, flow = sampler.batch(indices, swap, flip, side)
        x, first = forward(model, prompts, patches, system, args.vision_layers)
        summary = x[:, -1]
        logits = head.labels(summary)
        per_pair = F.cross_entropy(logits.reshape(-1, 3), labels.reshape(-1), reduction="none")
        weights = torch.where(sampler.kinds(indices) == orbit, args.orbit_weight, 1.0).repeat_interleave(2)
        label_loss = (per_pair * weights).sum() / weights.sum()
        size_loss = F.smooth_l1_loss(head.sizes(summary), sizes)
        predicted = head.flow(first)
        valid = flow[..., 2:3]
        flow_loss = (F.smooth_l1_loss(predicted[..., :2], 4 * flow[..., :2], reduction="none") * valid).sum() \
            / valid.sum().clamp(min=1) / 2 + 0.3 * F.binary_cross_entropy_with_logits(predicted[..., 2], flow[..., 2])
        loss = label_loss + 0.5 * size_loss + args.flow_weight * flow_loss
        stats = {"label_loss": label_loss.item(), "size_loss": size_loss.item(), "flow_loss": flow_loss.item()}
        if args.paired_swaps and args.swap_consistency > 0:
            consistency = swap_consistency(logits)
            loss = loss + args.swap_consistency * consistency
            stats["swap_consistency"] = consistency.item()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trained, 1.0)
        optimizer.step()
        running = stats if running is None else {k: 0.9 * running[k] + 0.1 * v for k, v in stats.items()}
        if step % args.log_every == 0 or step == args.steps:
            entry = {"stage": "vision", "step": step, "elapsed": round(time.monotonic() - started, 1),
                     **{k: round(v, 4) for k, v in running.items()}}
            if step % args.eval_every == 0 or step == args.steps:
                entry["val"] = motion_accuracy(model, prompts, head, val_sampler, args)
            history.append(entry)
            print(json.dumps(entry), flush=True)
        if step % 100 == 0 or step in (args.steps, args.stop_after):
            torch.save({"model": cpu_state(model), "head": cpu_state(head), "dims": dims.to_json(),
                        "history": history, "step": step, "vocabulary": data.prompts["vocabulary"],
                        "command": args.command_line, "optimizer": optimizer.state_dict(),
                        "rng": rng.bit_generator.state}, path + ".tmp")
            os.replace(path + ".tmp", path)


@torch.no_grad()
def motion_accuracy(model, prompts, head, val: PairSampler, args) -> dict:
    """Validation accuracy of the motion head (forward direction), overall and per motion kind."""
    hits, kinds = [], []
    side = 14 // model.d.patchPool
    for start in range(0, min(val.count, args.val_pairs), 40):
        idx = np.arange(start, min(start + 40, args.val_pairs, val.count))
        no = np.zeros(len(idx), dtype=bool)
        patches, labels, _, _ = val.batch(idx, no, no, side)
        x, _ = vision_forward(model, prompts, patches, 0, args.vision_layers)
        predicted = head.labels(x[:, -1]).reshape(-1, 2, 3).argmax(-1)
        hits.append((predicted == labels).cpu().numpy())
        kinds.append(val.kinds(idx).cpu().numpy())
    hit, kind = np.concatenate(hits), np.concatenate(kinds)
    result = {"ego": round(float(hit[:, 0].mean()), 3), "yaw": round(float(hit[:, 1].mean()), 3)}
    result["byKind"] = {name: [round(float(hit[kind == k, q].mean()), 2) for q in (0, 1)]
                        for k, name in enumerate(val.motion_kinds) if (kind == k).any()}
    return result


def stage_text(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)  # the training-only label head's initialisation
    data, val = Data(args.data), Data([args.val])
    vision = load_checkpoint(os.path.join(args.run, "vision.pt"))
    dims = Dims(**vision["dims"])
    model = TinyVLM(dims, vision["vocabulary"], seed=args.seed)
    if args.init_text:
        # Warm start of the text layers (e.g. trained against an earlier vision checkpoint); the
        # image pathway always comes from vision.pt.
        state = load_checkpoint(args.init_text)["model"]
        model.load_state_dict(state)
        load_vision_part(model, vision["model"], args.vision_layers)
    else:
        model.load_state_dict(vision["model"])
    prompts = Prompts(data.prompts, model)
    if args.letter_gather_gain > 0 and not args.init_text:
        # The first text layer starts with position-only heads 1-5 tokens back on all M-RoPE rows:
        # in "A: Move to the left" / "C: No movement" the option's letter sits 5 / 2 / 3 tokens
        # before the words that name its label.
        back = [(d, d, d) for d in (2, 3, 5, 1, 4)]
        model.init_gather(args.vision_layers, 0, back, args.letter_gather_gain)
    frozen_prefixes = ["visual.", "model.embed_tokens."] + [f"model.layers.{i}." for i in range(args.vision_layers)]
    trained = []
    for n, p in model.named_weights():
        frozen = any(n.startswith(f) for f in frozen_prefixes)
        p.requires_grad_(not frozen)
        if not frozen:
            trained.append(p)
    model.to(args.device)
    aux = AuxHeads(dims.hiddenSize).to(args.device)
    sampler = PairSampler(data, args.device)
    side = 14 // dims.patchPool
    optimizer = torch.optim.AdamW([{"params": trained + list(aux.label.parameters())}], lr=args.lr, weight_decay=0.01)
    rng = np.random.default_rng(args.seed + 1)
    history = vision["history"]
    previous_command = vision.get("command", "python3 tools/train/stages.py vision ?")
    if args.init_text:
        # Continuing a text stage: its history and commands come first.
        prior = load_checkpoint(args.init_text)
        history = prior["history"]
        previous_command = prior["config"]["args"]["command_line"]
    # The provenance names every command and counts every stage's time.
    this_command = args.command_line
    args.command_line = f"{previous_command} && {args.command_line}"
    first_step = 1
    path = os.path.join(args.run, "checkpoint.pt")
    saved = resumable(args, path, "text", lambda c: c["config"]["args"].get("stage") == "text")
    if saved is not None:
        history, first_step = restore(saved, model, aux, saved["aux_head"], optimizer, rng)
        args.command_line = f"{saved['config']['args']['command_line']} && {this_command}"
    elapsed_before = history[-1]["elapsed"] if history else 0.0
    started = time.monotonic() - elapsed_before
    print(f"text stage: {sum(p.numel() for p in trained)} trained parameters", flush=True)
    running = None
    for step in range(first_step, min(args.steps, args.stop_after or args.steps) + 1):
        for g in optimizer.param_groups:
            g["lr"] = cosine_lr(step - 1, args.steps, args.lr, 50)
        system = 1 if rng.random() < args.actial_share else 0
        def questions() -> list[int]:
            kinds = [KINDS[int(i)] for i in rng.choice(3, args.blocks, replace=False)]
            return [int(rng.choice(prompts.by_kind[kind])) for kind in kinds]

        indices, swap, flip, asked = draw_pairs(rng, len(data), args.batch, questions)
        patches, labels, _, _ = sampler.batch(indices, swap, flip, side)
        items = [(None, ego, yaw, q) for (ego, yaw), q in zip(labels.tolist(), asked)]
        batch = make_batch(model, prompts, items, system, args.device, patches=patches)
        loss, stats = loss_of(model, prompts, batch, aux, 0.0, args.label_weight, 0.0)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trained, 1.0)
        optimizer.step()
        running = stats if running is None else {k: 0.9 * running[k] + 0.1 * v for k, v in stats.items()}
        if step % args.log_every == 0 or step == args.steps:
            entry = {"stage": "text", "step": step, "elapsed": round(time.monotonic() - started, 1),
                     **{k: round(v, 4) for k, v in running.items()}}
            if step % args.eval_every == 0 or step == args.steps:
                entry["val"] = evaluate(model, prompts, val, limit=args.val_pairs, device=args.device)
            history.append(entry)
            print(json.dumps(entry), flush=True)
        if step % 100 == 0 or step in (args.steps, args.stop_after):
            for p in model.parameters():
                p.requires_grad_(True)
            config = {"dims": dims.to_json(), "args": {k: v for k, v in vars(args).items() if k != "func"},
                      "data": data.describe(), "val": val.describe(), "vocabulary": vision["vocabulary"]}
            save_checkpoint(os.path.join(args.run, "checkpoint.pt"), model, optimizer, step, rng, config, history, aux)
            for n, p in model.named_weights():
                p.requires_grad_(not any(n.startswith(f) for f in frozen_prefixes))


def resumable(args: argparse.Namespace, path: str, stage: str, is_ours) -> dict | None:
    """With --resume, the checkpoint at `path` to go on from (None: start afresh); exits if it is complete."""
    if not (args.resume and os.path.exists(path)):
        return None
    saved = load_checkpoint(path)
    if not is_ours(saved):
        return None
    if saved["step"] >= args.steps:
        print(f"{stage} stage: {path} has all {args.steps} steps already", flush=True)
        raise SystemExit(0)
    print(f"{stage} stage: resuming {path} after step {saved['step']}", flush=True)
    return saved


def restore(saved: dict, model: TinyVLM, head: torch.nn.Module, head_state: dict, optimizer,
            rng: np.random.Generator) -> tuple[list, int]:
    """Loads a checkpoint's weights, optimizer and sampler state; returns its history and the next step."""
    model.load_state_dict(saved["model"])
    head.load_state_dict(head_state)
    optimizer.load_state_dict(saved["optimizer"])
    rng.bit_generator.state = saved["rng"]
    return saved["history"], saved["step"] + 1


def cpu_state(module: torch.nn.Module) -> dict:
    return {k: v.detach().cpu() for k, v in module.state_dict().items()}


def load_vision_part(model: TinyVLM, state: dict, vision_layers: int) -> None:
    """Copies the image pathway (vision tower, embeddings, layers < vision_layers) from a state dict."""
    vision_model = TinyVLM(model.d, model.vocabulary_ids)
    vision_model.load_state_dict(state)
    keep = ["visual.", "model.embed_tokens."] + [f"model.layers.{i}." for i in range(vision_layers)]
    with torch.no_grad():
        for (name, target), (_, source) in zip(model.named_weights(), vision_model.named_weights()):
            if any(name.startswith(k) for k in keep):
                target.copy_(source)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stage", choices=["vision", "text"])
    parser.add_argument("--data", nargs="+", required=True)
    parser.add_argument("--val", required=True)
    parser.add_argument("--run", required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--vision-layers", type=int, default=3)
    parser.add_argument("--gather-gain", type=float, default=4.0)
    parser.add_argument("--match-gain", type=float, default=4.0,
                        help="vision stage: start KV group 1 of layer 0 as content matches along rows of image 1 "
                             "that read out the flow (0: off, KV group 1 random)")
    parser.add_argument("--match-content-gain", type=float, default=1.0)
    parser.add_argument("--flow-weight", type=float, default=1.0)
    parser.add_argument("--orbit-weight", type=float, default=1.0,
                        help="vision stage: weight of orbit pairs in the motion-label loss")
    parser.add_argument("--paired-swaps", action="store_true",
                        help="vision stage: each batch holds batch/2 pairs in both image orders (same flip)")
    parser.add_argument("--swap-consistency", type=float, default=0.0,
                        help="vision stage, with --paired-swaps: weight of the symmetric KL between a pair's answers "
                             "and the mirrored answers of its swapped copy")
    parser.add_argument("--label-weight", type=float, default=1.0)
    parser.add_argument("--actial-share", type=float, default=0.25, help="share of steps with Actial's system prompt")
    parser.add_argument("--blocks", type=int, default=1, choices=[1, 2, 3], help="questions per pair (text stage)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--compile", action="store_true",
                        help="vision stage: torch.compile the training forward (torch >= 2.0 and a C compiler; "
                             "one graph per system prompt; see tools/train/README.md for the speed-up)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (the whole training set is then copied to the GPU)")
    parser.add_argument("--letter-gather-gain", type=float, default=0.0,
                        help="text stage: start KV group 0 of the first text layer as lookups 1-5 tokens back")
    parser.add_argument("--resume", action="store_true",
                        help="go on from the run's vision.pt (vision) or checkpoint.pt (text) if it stopped early")
    parser.add_argument("--stop-after", type=int, default=0,
                        help="stop (with a checkpoint) after this step of the --steps schedule, as a time limit "
                             "would; --resume goes on")
    parser.add_argument("--init-text", default="", help="text stage: start the text layers from this checkpoint.pt")
    parser.add_argument("--val-pairs", type=int, default=120)
    parser.add_argument("--log-every", type=int, default=25)
    parser.add_argument("--eval-every", type=int, default=200)
    args = parser.parse_args()
    if args.swap_consistency > 0 and not args.paired_swaps:
        parser.error(f"--swap-consistency {args.swap_consistency} needs --paired-swaps (each pair in both orders)")
    if args.paired_swaps and args.batch % 2:
        parser.error(f"--paired-swaps needs an even --batch (both orders of each pair), got {args.batch}")
    args.command_line = " ".join(["python3", "tools/train/stages.py", *sys.argv[1:]])
    (stage_vision if args.stage == "vision" else stage_text)(args)


if __name__ == "__main__":
    main()
