#!/usr/bin/env python3
"""Train, evaluate and export the tiny viewpoint VLM (see tools/train/README.md).

  python3 tools/train/train.py train --data DIR [DIR ...] --val DIR --run RUN_DIR [--steps N] [--seed S]
  python3 tools/train/train.py eval --run RUN_DIR --val DIR
  python3 tools/train/train.py export --run RUN_DIR --out WEIGHTS_DIR

Training is resumable: re-running the same `train` command continues from RUN_DIR/checkpoint.pt.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tiny_vlm import (  # noqa: E402
    OTHER_LOGIT,
    Dims,
    TinyVLM,
    mrope_prefix_positions,
    normalize_pooled,
    pooled_to_patches,
)

LEFT, NONE, RIGHT = 0, 1, 2
LABELS = ["left", "none", "right"]
KINDS = ["egoTranslation", "objectTranslation", "yawRotation"]
WEIGHTS_FORMAT = "actial-tiny-weights"
WEIGHTS_FORMAT_VERSION = 1


def mirror(label: np.ndarray) -> np.ndarray:
    return 2 - label


# ------------------------------------------------------------------------------------------ data


@dataclass
class Shard:
    images: np.ndarray  # [N, 2, h, w, 3] uint16 (sums of 2x2 blocks)
    labels: np.ndarray  # [N, 6] uint8
    geometry: np.ndarray | None  # [N, 4] float32
    flow: np.ndarray | None  # [N, 2, tokens, 3] float32
    meta: dict


def load_shard(path: str) -> Shard:
    meta = json.load(open(os.path.join(path, "meta.json")))
    n = meta["count"]
    shape = [n] + meta["imageShape"]
    images = np.memmap(os.path.join(path, "images.u16"), dtype="<u2", mode="r", shape=tuple(shape))
    labels = np.fromfile(os.path.join(path, "labels.u8"), dtype=np.uint8).reshape(n, 6)
    geometry_path = os.path.join(path, "geometry.f32")
    geometry = np.fromfile(geometry_path, dtype="<f4").reshape(-1, 4)[:n] if os.path.exists(geometry_path) else None
    flow_path = os.path.join(path, "flow.f32")
    flow = np.fromfile(flow_path, dtype="<f4").reshape(-1, 2, 64, 3)[:n] if os.path.exists(flow_path) else None
    return Shard(images, labels, geometry, flow, meta)


class Data:
    """Training pairs from one or more set folders (all made with the same prompts.json)."""

    def __init__(self, paths: list[str]):
        self.shards = [load_shard(p) for p in paths]
        self.prompts = json.load(open(os.path.join(paths[0], "prompts.json")))
        for p in paths[1:]:
            if json.load(open(os.path.join(p, "prompts.json"))) != self.prompts:
                raise SystemExit(f"{p}: prompts.json differs from {paths[0]}")
        self.index = [(s, i) for s, shard in enumerate(self.shards) for i in range(shard.meta["count"])]

    def __len__(self) -> int:
        return len(self.index)

    def pair(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        s, i = self.index[k]
        shard = self.shards[s]
        return np.asarray(shard.images[i]), shard.labels[i]

    def flow(self, k: int) -> np.ndarray:
        s, i = self.index[k]
        f = self.shards[s].flow
        return np.zeros((2, 64, 3), np.float32) if f is None else f[i]

    def geometry(self, k: int) -> np.ndarray:
        s, i = self.index[k]
        g = self.shards[s].geometry
        return np.zeros(4, np.float32) if g is None else g[i]

    def describe(self) -> list[dict]:
        return [{k: s.meta[k] for k in ("seed", "start", "count", "synthDataVersion", "trainingSetVersion")}
                for s in self.shards]


class Prompts:
    """Token ids of the prompt variants (from prompts.json, tokenized in TypeScript)."""

    def __init__(self, prompts: dict, model: TinyVLM, image_size: int = 224):
        self.raw = prompts
        self.systems = prompts["systems"]
        self.questions = prompts["questions"]
        self.stop_token = prompts["stopToken"]
        # The ids around the images do not depend on the image size; only the pad count does.
        grid = [1, image_size // 14, image_size // 14]
        self.image_size = image_size
        self.merged_h, self.merged_w = grid[1] // 2, grid[2] // 2
        self.by_kind = {k: [i for i, q in enumerate(self.questions) if q["kind"] == k] for k in KINDS}
        self.model = model

    def letter_of(self, question: dict, label: int) -> int:
        return question["order"].index(LABELS[label])


def answer_labels(kind: str, ego: int, yaw: int) -> int:
    if kind == "egoTranslation":
        return ego
    if kind == "objectTranslation":
        return 2 - ego
    return yaw


def augment(images: np.ndarray, labels: np.ndarray, swap: bool, flip: bool) -> tuple[np.ndarray, int, int]:
    ego, yaw = (int(labels[2]), int(labels[3])) if swap else (int(labels[0]), int(labels[1]))
    if swap:
        images = images[::-1]
    if flip:
        images = images[:, :, ::-1]
        ego, yaw = 2 - ego, 2 - yaw
    return np.ascontiguousarray(images), ego, yaw


def augment_flow(flow: np.ndarray, swap: bool, flip: bool) -> np.ndarray:
    """Flow of the (augmented) second image's tokens into the first: [64, 3] of dx, dy, valid."""
    f = flow[1 if swap else 0].reshape(8, 8, 3)
    if flip:
        f = f[:, ::-1].copy()
        f[..., 0] = -f[..., 0]
    return np.ascontiguousarray(f.reshape(64, 3))


@dataclass
class Batch:
    system: int
    patches: torch.Tensor  # [B, 2, 256, 147]
    blocks: torch.Tensor  # [B, Q, L] token ids (padded with the stop token)
    answer_at: torch.Tensor  # [B, Q] index of the scoring position
    answer: torch.Tensor  # [B, Q] compact target index
    stop_weight: torch.Tensor  # [B, Q] weight of the stop-token target after the letter
    choices: torch.Tensor  # [B, Q, 3] compact indices of A, B, C
    correct: torch.Tensor  # [B, Q] letter index
    kinds: torch.Tensor  # [B, Q]
    ego_yaw: torch.Tensor  # [B, 2] ego translation and yaw labels (after augmentation)
    flow: torch.Tensor  # [B, 64, 3] where the second image's tokens show in the first (dx, dy, valid)
    labels: torch.Tensor  # [B, Q] label (0 left, 1 none, 2 right) each question asks for


def make_batch(model: TinyVLM, prompts: Prompts, items: list[tuple[np.ndarray, int, int, list[int]]],
               system: int, device: str = "cpu", flows: list | None = None,
               patches: torch.Tensor | None = None) -> Batch:
    """items: (pooled images [2, h, w, 3], ego, yaw, question indices); with `patches` (the images'
    encoder rows, already made) the items' images are not used."""
    if patches is None:
        images = torch.from_numpy(np.stack([it[0].astype(np.float32) for it in items]))
        if prompts.image_size == 224:
            patches = pooled_to_patches(normalize_pooled(images), side=14 // model.d.patchPool)
        else:
            # The 2x2 means as a 112x112 image, whole 14x14 patches (both frames) for a pool-1 tower.
            patches = pooled_to_patches(normalize_pooled(images), side=14)
            n = patches.shape[:-1]
            patches = patches.reshape(*n, 3, 1, 196).expand(*n, 3, 2, 196).reshape(*n, 1176)
    q_count = len(items[0][3])
    lengths = [len(prompts.questions[q]["block"]) + 1 for it in items for q in it[3]]
    l_max = max(lengths)
    blocks = torch.full((len(items), q_count, l_max), prompts.stop_token, dtype=torch.long)
    answer_at = torch.zeros(len(items), q_count, dtype=torch.long)
    answer = torch.zeros(len(items), q_count, dtype=torch.long)
    stop_weight = torch.zeros(len(items), q_count)
    choices = torch.zeros(len(items), q_count, 3, dtype=torch.long)
    correct = torch.zeros(len(items), q_count, dtype=torch.long)
    kinds = torch.zeros(len(items), q_count, dtype=torch.long)
    labels = torch.zeros(len(items), q_count, dtype=torch.long)
    ego_yaw = torch.tensor([[it[1], it[2]] for it in items], dtype=torch.long)
    lookup = {t: i for i, t in enumerate(model.vocabulary_ids)}
    for b, (_, ego, yaw, questions) in enumerate(items):
        for j, qi in enumerate(questions):
            q = prompts.questions[qi]
            label = answer_labels(q["kind"], ego, yaw)
            letter = prompts.letter_of(q, label)
            ids = q["block"] + [q["choiceTokens"][letter]]
            blocks[b, j, : len(ids)] = torch.tensor(ids)
            answer_at[b, j] = len(q["block"]) - 1
            answer[b, j] = lookup[q["choiceTokens"][letter]]
            stop_weight[b, j] = 0.25 if q["answerPrefix"] == "" else 0.0
            choices[b, j] = torch.tensor([lookup[t] for t in q["choiceTokens"]])
            correct[b, j] = letter
            kinds[b, j] = KINDS.index(q["kind"])
            labels[b, j] = label
    return Batch(system, patches.to(device), blocks.to(device), answer_at.to(device), answer.to(device),
                 stop_weight.to(device), choices.to(device), correct.to(device), kinds.to(device),
                 ego_yaw.to(device), torch.from_numpy(np.stack(flows)).to(device) if flows else
                 torch.zeros(len(items), 64, 3, device=device), labels.to(device))


def run_batch(model: TinyVLM, prompts: Prompts, batch: Batch, with_hidden: bool = False, capture: int | None = None):
    """Returns compact logits at the scoring position [B, Q, K] and after the letter [B, Q, K]."""
    system = prompts.systems[batch.system]
    b = batch.patches.shape[0]
    features = model.vision_from_pooled(batch.patches, (2 * prompts.merged_h, 2 * prompts.merged_w))
    device = batch.patches.device
    prefix_ids = torch.tensor(system["prefix"], device=device)
    between_ids = torch.tensor(system["between"], device=device)
    prefix = torch.cat([
        model.embed(prefix_ids).expand(b, -1, -1),
        features[:, 0],
        model.embed(between_ids).expand(b, -1, -1),
        features[:, 1],
    ], dim=1)
    positions, nxt = mrope_prefix_positions(len(system["prefix"]), len(system["between"]), prompts.merged_h,
                                            prompts.merged_w)
    l_max = batch.blocks.shape[-1]
    block_positions = (nxt + torch.arange(l_max)).unsqueeze(-1).expand(-1, 3)
    prefix_hidden, hidden = model.forward_packed(prefix, positions.to(device), model.embed(batch.blocks),
                                                 block_positions.to(device), capture)
    at = batch.answer_at[..., None, None].expand(-1, -1, 1, hidden.shape[-1])
    answer_hidden = hidden.gather(2, at).squeeze(2)
    stop_hidden = hidden.gather(2, at + 1).squeeze(2)
    if with_hidden:
        return model.logits(answer_hidden), model.logits(stop_hidden), hidden, prefix_hidden[:, -features.shape[2]:]
    return model.logits(answer_hidden), model.logits(stop_hidden)


class AuxHeads(torch.nn.Module):
    """Training-only heads (never exported) that give the image pathway a signal of its own while the
    letter reading is still unlearned: ego translation and yaw from the token after the second image,
    and the asked label (not its letter) from the scoring position."""

    def __init__(self, hidden: int):
        super().__init__()
        self.motion = torch.nn.Linear(hidden, 6)
        self.label = torch.nn.Linear(hidden, 3)
        self.flow = torch.nn.Linear(hidden, 2)


def loss_of(model: TinyVLM, prompts: Prompts, batch: Batch, aux: AuxHeads | None = None,
            motion_weight: float = 0.0, label_weight: float = 0.0, flow_weight: float = 0.0,
            flow_layer: int | None = None):
    answer_logits, stop_logits, hidden, image2 = run_batch(model, prompts, batch, with_hidden=True,
                                                           capture=flow_layer)
    k = answer_logits.shape[-1]
    answer_loss = F.cross_entropy(answer_logits.reshape(-1, k), batch.answer.reshape(-1))
    stop_target = torch.full_like(batch.answer, model.vocabulary_ids.index(prompts.stop_token))
    stop_loss = (F.cross_entropy(stop_logits.reshape(-1, k), stop_target.reshape(-1), reduction="none")
                 * batch.stop_weight.reshape(-1)).mean()
    choice_logits = answer_logits.gather(-1, batch.choices)
    accuracy = (choice_logits.argmax(-1) == batch.correct).float().mean().item()
    total = answer_loss + stop_loss
    stats = {"answer_loss": answer_loss.item(), "stop_loss": stop_loss.item(), "accuracy": accuracy}
    if aux is not None and motion_weight > 0:
        motion = aux.motion(hidden[:, 0, 0]).reshape(-1, 2, 3)
        motion_loss = F.cross_entropy(motion.reshape(-1, 3), batch.ego_yaw.reshape(-1))
        total = total + motion_weight * motion_loss
        stats["motion_loss"] = motion_loss.item()
    if aux is not None and label_weight > 0:
        at = batch.answer_at[..., None, None].expand(-1, -1, 1, hidden.shape[-1])
        label = aux.label(hidden.gather(2, at).squeeze(2))
        label_loss = F.cross_entropy(label.reshape(-1, 3), batch.labels.reshape(-1))
        total = total + label_weight * label_loss
        stats["label_loss"] = label_loss.item()
    if aux is not None and flow_weight > 0:
        # Dense: where each token of the second image shows in the first (4 = image widths -> ~[-2, 2]).
        predicted = aux.flow(image2)
        valid = batch.flow[..., 2:3]
        error = F.smooth_l1_loss(predicted, 4 * batch.flow[..., :2], reduction="none") * valid
        flow_loss = error.sum() / valid.sum().clamp(min=1) / 2
        total = total + flow_weight * flow_loss
        stats["flow_loss"] = flow_loss.item()
    return total, stats


def sample_batch(model: TinyVLM, prompts: Prompts, data: Data, rng: np.random.Generator, batch_size: int,
                 per_kind: int, device: str = "cpu", blocks: int = 3) -> Batch:
    system = int(rng.integers(len(prompts.systems)))
    items, flows = [], []
    for k in rng.integers(len(data), size=batch_size):
        images, labels = data.pair(int(k))
        swap, flip = bool(rng.integers(2)), bool(rng.integers(2))
        images, ego, yaw = augment(images, labels, swap, flip)
        flows.append(augment_flow(data.flow(int(k)), swap, flip))
        kinds = KINDS if blocks >= 3 else [KINDS[int(i)] for i in rng.choice(3, blocks, replace=False)]
        questions = [int(q) for kind in kinds for q in rng.choice(prompts.by_kind[kind], per_kind, replace=False)]
        items.append((images, ego, yaw, questions))
    return make_batch(model, prompts, items, system, device, flows)


# ------------------------------------------------------------------------------------------ eval


@torch.no_grad()
def evaluate(model: TinyVLM, prompts: Prompts, data: Data, system: int = 0, answer_prefix: str = "",
             swap: bool = False, flip: bool = False, bgr: bool = False, chunk: int = 16, limit: int = 0,
             device: str = "cpu", all_orders: bool = False) -> dict:
    """Accuracy per question over the pairs (the first `limit`, 0 = all), each question in the spatial
    layer's 3 default option orders (all 6 with `all_orders`): `single` (each order on its own) and
    `averaged` (letter probabilities mapped to labels and averaged over the 3 default orders, as
    the spatial layer does)."""
    model.eval()
    questions = [i for i, q in enumerate(prompts.questions) if q["answerPrefix"] == answer_prefix
                 and (all_orders or q["order"] in ORDERS_AVERAGED)]
    count = min(len(data), limit) if limit else len(data)
    single = {k: [0, 0] for k in KINDS}
    averaged = {k: [0, 0] for k in KINDS}
    for start in range(0, count, chunk):
        items = []
        for k in range(start, min(count, start + chunk)):
            images, labels = data.pair(k)
            if bgr:
                images = images[..., ::-1]
            images, ego, yaw = augment(images, labels, swap, flip)
            items.append((images, ego, yaw, questions))
        batch = make_batch(model, prompts, items, system, device)
        logits, _ = run_batch(model, prompts, batch)
        probs = torch.softmax(logits.gather(-1, batch.choices), dim=-1).cpu()  # [B, Q, 3]
        for b, (_, ego, yaw, _) in enumerate(items):
            label_probs = {k: [] for k in KINDS}
            for j, qi in enumerate(questions):
                q = prompts.questions[qi]
                kind = q["kind"]
                truth = answer_labels(kind, ego, yaw)
                single[kind][0] += int(probs[b, j].argmax().item() == q["order"].index(LABELS[truth]))
                single[kind][1] += 1
                by_label = [probs[b, j, q["order"].index(name)].item() for name in LABELS]
                if q["order"] in ORDERS_AVERAGED:
                    label_probs[kind].append(by_label)
            for kind in KINDS:
                mean = np.mean(label_probs[kind], axis=0)
                averaged[kind][0] += int(mean.argmax() == answer_labels(kind, ego, yaw))
                averaged[kind][1] += 1
    model.train()
    return {"single": {k: v[0] / v[1] for k, v in single.items()},
            "averaged": {k: v[0] / v[1] for k, v in averaged.items()}}


# The spatial layer's defaultOptionOrders(3).
ORDERS_AVERAGED = [["left", "right", "none"], ["right", "none", "left"], ["none", "left", "right"]]


# ------------------------------------------------------------------------------------------ train


def dims_from_args(args: argparse.Namespace) -> Dims:
    return Dims(hiddenSize=args.hidden, numLayers=args.layers, numHeads=args.heads, numKvHeads=args.kv_heads,
                headDim=args.head_dim, intermediateSize=args.intermediate, ropeTheta=args.rope_theta,
                mropeSection=[int(x) for x in args.mrope_section.split(",")],
                ropeFrequencies=[float(x) for x in args.rope_frequencies.split(",")] if args.rope_frequencies else None,
                visionHiddenSize=args.vision_hidden, visionIntermediateSize=args.vision_intermediate,
                visionPositions=not args.no_vision_positions, patchPool=2 if args.image_size == 224 else 1)


def learning_rate(step: int, total: int, peak: float, warmup: int) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def load_checkpoint(path: str, map_location="cpu") -> dict:
    """A checkpoint written by this folder's trainers. They hold numpy generator states and other
    plain Python objects, which torch >= 2.6 refuses to unpickle by default (weights_only=True)."""
    return torch.load(path, map_location=map_location, weights_only=False)


def save_checkpoint(path: str, model: TinyVLM, optimizer, step: int, rng: np.random.Generator, config: dict,
                    history: list, aux_head=None) -> None:
    tmp = path + ".tmp"
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                "aux_head": aux_head.state_dict() if aux_head is not None else None,
                "rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(), "config": config,
                "history": history}, tmp)
    os.replace(tmp, path)


def train(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    os.makedirs(args.run, exist_ok=True)
    checkpoint_path = os.path.join(args.run, "checkpoint.pt")
    data = Data(args.data)
    val = Data([args.val]) if args.val else None
    dims = dims_from_args(args)
    config = {"dims": dims.to_json(), "args": {k: v for k, v in vars(args).items() if k != "func"},
              "data": data.describe(), "val": val.describe() if val else None,
              "vocabulary": data.prompts["vocabulary"]}
    torch.manual_seed(args.seed)
    model = TinyVLM(dims, data.prompts["vocabulary"], seed=args.seed)
    if args.match_init:
        # Image 2 starts max(t, h, w) + len(between) positions after image 1 on every row.
        grid = [1, args.image_size // 14, args.image_size // 14]
        offset = max(grid[0], grid[1] // 2, grid[2] // 2) + len(data.prompts["systems"][0]["between"])
        model.init_matching(0, offset, [int(x) for x in args.match_shifts.split(",")], args.match_gain)
    if args.gather_gain > 0:
        # Position-only heads: from the second image, the first image's token `dc` columns over.
        grid = [1, args.image_size // 14, args.image_size // 14]
        offset = max(grid[0], grid[1] // 2, grid[2] // 2) + len(data.prompts["systems"][0]["between"])
        shifts = [int(x) for x in args.gather_shifts.split(",")]
        model.init_gather(args.gather_layer, 0, [(offset, offset, offset + dc) for dc in shifts], args.gather_gain)
    model = model.to(args.device)
    aux_head = (AuxHeads(dims.hiddenSize).to(args.device)
                if args.motion_weight or args.label_weight or args.flow_weight else None)
    decay = [p for n, p in model.named_weights() if p.dim() == 2]
    no_decay = [p for n, p in model.named_weights() if p.dim() < 2]
    if aux_head is not None:
        decay += list(aux_head.parameters())
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.98))
    rng = np.random.default_rng(args.seed)
    step, history = 0, []
    if os.path.exists(checkpoint_path):
        state = load_checkpoint(checkpoint_path, args.device)
        if state["config"]["dims"] != config["dims"]:
            raise SystemExit(f"{checkpoint_path} was trained with other dimensions; use another --run")
        model.load_state_dict(state["model"])
        if aux_head is not None:
            aux_head.load_state_dict(state["aux_head"])
        optimizer.load_state_dict(state["optimizer"])
        rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
        step, history = state["step"], state["history"]
        print(f"resumed at step {step}", flush=True)
    prompts = Prompts(data.prompts, model, args.image_size)
    params = sum(p.numel() for p in model.parameters())
    print(f"{params} parameters, {len(data)} training pairs, dims {dims.to_json()}", flush=True)
    started = time.monotonic()
    elapsed_before = history[-1]["elapsed"] if history else 0.0
    running = None
    while step < args.steps:
        lr = learning_rate(step, args.steps, args.lr, args.warmup)
        for group in optimizer.param_groups:
            group["lr"] = lr
        batch = sample_batch(model, prompts, data, rng, args.batch, args.per_kind, args.device, args.blocks_per_pair)
        weight = 1.0 if step < args.aux_steps else max(0.0, 1.0 - (step - args.aux_steps) / max(1, args.aux_steps))
        loss, stats = loss_of(model, prompts, batch, aux_head, weight * args.motion_weight,
                              weight * args.label_weight, weight * args.flow_weight, args.flow_layer)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        running = stats if running is None else {k: 0.95 * running.get(k, v) + 0.05 * v for k, v in stats.items()}
        elapsed = elapsed_before + time.monotonic() - started
        if step % args.log_every == 0 or step == args.steps:
            entry = {"step": step, "elapsed": round(elapsed, 1), "lr": lr, **{k: round(v, 4) for k, v in running.items()}}
            if val and (step % args.eval_every == 0 or step == args.steps):
                entry["val"] = evaluate(model, prompts, val, limit=args.val_pairs, device=args.device)
            history.append(entry)
            print(json.dumps(entry), flush=True)
        if step % args.checkpoint_every == 0 or step == args.steps:
            save_checkpoint(checkpoint_path, model, optimizer, step, rng, config, history, aux_head)
    save_checkpoint(checkpoint_path, model, optimizer, step, rng, config, history, aux_head)
    print(f"done: {step} steps, {history[-1]['elapsed'] if history else 0:.0f} s of training", flush=True)


def load_run(run: str, device: str = "cpu") -> tuple[TinyVLM, dict]:
    state = load_checkpoint(os.path.join(run, "checkpoint.pt"), device)
    config = state["config"]
    model = TinyVLM(Dims(**config["dims"]), config["vocabulary"]).to(device)
    model.load_state_dict(state["model"])
    model.eval()
    return model, state


def cmd_eval(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    model, state = load_run(args.run, args.device)
    val = Data([args.val])
    prompts = Prompts(val.prompts, model, state["config"]["args"].get("image_size", 224))
    results = {}
    for name, kw in {"plain": {}, "actial-system": {"system": 1}, "answer-prefix": {"answer_prefix": "<answer>"},
                     "swapped": {"swap": True}, "mirrored": {"flip": True}, "bgr": {"bgr": True}}.items():
        results[name] = evaluate(model, prompts, val, limit=args.limit, device=args.device, **kw)
        print(name, json.dumps(results[name]), flush=True)


# ------------------------------------------------------------------------------------------ export


def reference_pixels(patches: int, phase: float) -> torch.Tensor:
    i = np.arange(patches * 1176, dtype=np.float64)
    return torch.from_numpy((1.8 * np.sin(0.37 * i + phase)).astype(np.float32)).reshape(patches, 1176)


@torch.no_grad()
def reference_outputs(model: TinyVLM, prompts: dict) -> dict:
    """Outputs of the ONNX graphs for a fixed input, computed here, for src/model/trained tests."""
    grid = prompts["grid"]
    patches = grid[0] * grid[1] * grid[2]
    hw = (grid[1], grid[2])
    f1 = model.vision_from_pixel_values(reference_pixels(patches, 0.0), hw)
    f2 = model.vision_from_pixel_values(reference_pixels(patches, 1.0), hw)
    system, question = prompts["systems"][0], prompts["questions"][0]
    embeds = torch.cat([model.embed(torch.tensor(system["prefix"])), f1, model.embed(torch.tensor(system["between"])),
                        f2, model.embed(torch.tensor(question["block"]))]).unsqueeze(0)
    mh, mw = grid[1] // 2, grid[2] // 2
    positions, nxt = mrope_prefix_positions(len(system["prefix"]), len(system["between"]), mh, mw)
    block_positions = (nxt + torch.arange(len(question["block"]))).unsqueeze(-1).expand(-1, 3)
    all_positions = torch.cat([positions, block_positions]).T.unsqueeze(1)  # [3, 1, S]
    hidden = model.forward_sequence(embeds, all_positions)
    compact = model.logits(hidden[0, -1])
    full = model.full_logits(compact)
    return {
        "input": {"pixels": "1.8 * sin(0.37 * i + phase), phase 0 (image 1) and 1 (image 2), i the flat index",
                  "grid": grid, "system": 0, "question": 0},
        "imageFeatures": [f1[:4].reshape(-1).tolist(), f2[-4:].reshape(-1).tolist()],
        "lastLogits": {"tokenIds": model.vocabulary_ids, "values": compact.tolist()},
        "otherLogit": OTHER_LOGIT,
        "check": {"fullMatchesCompact": bool(torch.equal(full[torch.tensor(model.vocabulary_ids)], compact))},
        "choiceProbabilities": torch.softmax(full[torch.tensor(question["choiceTokens"])], 0).tolist(),
    }


def cmd_export(args: argparse.Namespace) -> None:
    model, state = load_run(args.run)
    config = state["config"]
    os.makedirs(args.out, exist_ok=True)
    tensors, offset = [], 0
    with open(os.path.join(args.out, "weights.bin"), "wb") as f:
        for name, value in model.named_weights():
            array = value.detach().numpy().astype("<f4")
            f.write(array.tobytes())
            tensors.append({"name": name, "dims": list(array.shape), "offset": offset})
            offset += array.size
    prompts = json.load(open(os.path.join(config["args"]["data"][0], "prompts.json")))
    last = state["history"][-1] if state["history"] else {}
    manifest = {
        "format": WEIGHTS_FORMAT,
        "formatVersion": WEIGHTS_FORMAT_VERSION,
        "dimensions": config["dims"],
        "vocabularyIds": model.vocabulary_ids,
        "otherLogit": OTHER_LOGIT,
        "tensors": tensors,
        "training": {
            "command": config["args"].get("command_line"),
            "seed": config["args"]["seed"],
            "steps": state["step"],
            "trainingSeconds": last.get("elapsed"),
            "data": config["data"],
            "validation": last.get("val"),
            "torch": torch.__version__,
        },
    }
    with open(os.path.join(args.out, "weights.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    with open(os.path.join(args.out, "reference.json"), "w") as f:
        json.dump(reference_outputs(model, prompts), f)
        f.write("\n")
    print(f"wrote {offset} weights to {args.out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(required=True)
    t = sub.add_parser("train")
    t.add_argument("--data", nargs="+", required=True)
    t.add_argument("--val")
    t.add_argument("--run", required=True)
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--steps", type=int, default=3000)
    t.add_argument("--batch", type=int, default=16)
    t.add_argument("--per-kind", type=int, default=1)
    t.add_argument("--lr", type=float, default=2e-3)
    t.add_argument("--warmup", type=int, default=150)
    t.add_argument("--weight-decay", type=float, default=0.01)
    t.add_argument("--hidden", type=int, default=64)
    t.add_argument("--layers", type=int, default=4)
    t.add_argument("--heads", type=int, default=4)
    t.add_argument("--kv-heads", type=int, default=2)
    t.add_argument("--head-dim", type=int, default=16)
    t.add_argument("--intermediate", type=int, default=128)
    t.add_argument("--rope-theta", type=float, default=10.0)
    t.add_argument("--mrope-section", default="1,2,5")
    t.add_argument("--vision-hidden", type=int, default=64)
    t.add_argument("--vision-intermediate", type=int, default=128)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--device", default="cpu")
    t.add_argument("--motion-weight", type=float, default=1.0)
    t.add_argument("--label-weight", type=float, default=1.0)
    t.add_argument("--flow-weight", type=float, default=0.0)
    t.add_argument("--flow-layer", type=int, default=2, help="layers after which the image tokens predict the flow")
    t.add_argument("--aux-steps", type=int, default=1000000, help="full auxiliary weight for this many steps, then a linear fade over as many")
    t.add_argument("--no-vision-positions", action="store_true")
    t.add_argument("--match-init", action="store_true")
    t.add_argument("--rope-frequencies", default="", help="explicit rotary inverse frequencies (head_dim/2, comma-separated)")
    t.add_argument("--gather-gain", type=float, default=0.0, help="> 0: start KV group 0 of --gather-layer as position-only lookups into the first image")
    t.add_argument("--gather-layer", type=int, default=0)
    t.add_argument("--gather-shifts", default="-4,-3,-2,-1,0,1,2,3,4")
    t.add_argument("--image-size", type=int, default=224, choices=[112, 224])
    t.add_argument("--blocks-per-pair", type=int, default=3, choices=[1, 2, 3])
    t.add_argument("--match-shifts", default="-1,1,-2,2")
    t.add_argument("--match-gain", type=float, default=3.0)
    t.add_argument("--val-pairs", type=int, default=120)
    t.add_argument("--log-every", type=int, default=25)
    t.add_argument("--eval-every", type=int, default=250)
    t.add_argument("--checkpoint-every", type=int, default=100)
    t.set_defaults(func=train)
    e = sub.add_parser("eval")
    e.add_argument("--run", required=True)
    e.add_argument("--val", required=True)
    e.add_argument("--threads", type=int, default=2)
    e.add_argument("--device", default="cpu")
    e.add_argument("--limit", type=int, default=0)
    e.set_defaults(func=cmd_eval)
    x = sub.add_parser("export")
    x.add_argument("--run", required=True)
    x.add_argument("--out", required=True)
    x.set_defaults(func=cmd_export)
    args = parser.parse_args()
    args.command_line = " ".join(["python3", "tools/train/train.py", *sys.argv[1:]])
    args.func(args)


if __name__ == "__main__":
    main()
