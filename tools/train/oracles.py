#!/usr/bin/env python3
"""How much of the viewpoint answers each kind of correspondence carries (tools/train/README.md,
"Why flow" and "Where it fails").

A small MLP is trained on per-token features of the second image of each training pair and scored
on validation pairs, overall and per motion kind, for camera translation and rotation:
the true token flow (from the renderer), restricted versions of it, and correspondences computed
from the pixels (block matching, nearest token by mean colours).

  /usr/bin/python3 tools/train/oracles.py --data tools/train/data/seed7-0 --val tools/train/data/val-seed8 \
      [--pairs 3000] [--only trueflow,small,center,blocks,colours] [--vision-run RUN]

With --vision-run, also the flow that a vision-stage checkpoint (RUN/vision.pt) predicts from its
first layer, and how far it is from the true flow.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stages import MotionHead, PairSampler, vision_forward  # noqa: E402
from tiny_vlm import Dims, TinyVLM  # noqa: E402
from train import Data, Prompts, load_checkpoint, load_shard  # noqa: E402

GRID = 8  # tokens per side of a 224 x 224 image
TOKEN = 1 / GRID  # flow.f32 gives displacements in image widths and heights


def load(path: str, count: int) -> dict:
    shard = load_shard(path)
    n = min(count, shard.meta["count"])
    if shard.flow is None:
        raise SystemExit(f"{path}: no flow.f32 (made without the flow target)")
    return {"labels": shard.labels[:n], "flow": shard.flow[:n, 0], "images": shard.images[:n],
            "kinds": shard.meta["motionKinds"]}


def fit_predict(x: np.ndarray, y: np.ndarray, xv: np.ndarray, seed: int = 0) -> np.ndarray:
    torch.manual_seed(seed)
    x = torch.tensor(x.reshape(len(x), -1), dtype=torch.float32)
    xv = torch.tensor(xv.reshape(len(xv), -1), dtype=torch.float32)
    y = torch.tensor(y, dtype=torch.long)
    net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], 128), torch.nn.ReLU(), torch.nn.Linear(128, 3))
    optimizer = torch.optim.Adam(net.parameters(), 1e-3, weight_decay=1e-4)
    for _ in range(60):
        order = torch.randperm(len(x))
        for i in range(0, len(x), 128):
            b = order[i:i + 128]
            loss = F.cross_entropy(net(x[b]), y[b])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        return net(xv).argmax(1).numpy()


def small_flow(flow: np.ndarray, limit: float) -> np.ndarray:
    """Only the visible tokens that move less than `limit` tokens; the others read as not found."""
    dx, dy, seen = flow[..., 0] / TOKEN, flow[..., 1] / TOKEN, flow[..., 2] > 0
    keep = seen & (np.abs(dx) <= limit) & (np.abs(dy) <= limit)
    return np.stack([np.where(keep, dx, 0), np.where(keep, dy, 0), keep.astype(np.float32)], -1)


def central_flow(flow: np.ndarray) -> np.ndarray:
    """The central 4 x 4 tokens' flow, rounded to whole tokens and clipped to +-2."""
    dx, dy = np.round(flow[..., 0] / TOKEN), np.round(flow[..., 1] / TOKEN)
    beyond = (np.abs(dx) > 2) | (np.abs(dy) > 2)
    g = np.stack([np.clip(dx, -2, 2), np.clip(dy, -2, 2), np.where(beyond, 0, flow[..., 2])], -1)
    g = g.reshape(-1, GRID, GRID, 3)
    return g[:, 2:6, 2:6].reshape(len(g), -1, 3)


def block_matching(images: np.ndarray) -> np.ndarray:
    """Each token's 14 x 14 block of the 112 x 112 pooled image 2, best of 33 x 13 shifts into image 1."""
    shifts_x, shifts_y = range(-32, 33, 2), range(-12, 13, 2)
    out = []
    for s in range(0, len(images), 60):
        x = torch.tensor(np.asarray(images[s:s + 60], dtype=np.float32) / 1020.0).permute(0, 1, 4, 2, 3)
        first, second = x[:, 0], x[:, 1]
        size, pad = first.shape[-1], 32
        padded = F.pad(first, (pad, pad, pad, pad), value=float("nan"))
        costs = []
        for dy in shifts_y:
            for dx in shifts_x:
                window = padded[:, :, pad + dy:pad + dy + size, pad + dx:pad + dx + size]
                d = torch.nan_to_num((window - second) ** 2, nan=0.25)
                costs.append(F.avg_pool2d(d.sum(1, keepdim=True), size // GRID))
        c = torch.cat(costs, 1)
        best = c.argmin(1)
        bdx = torch.tensor(list(shifts_x) * len(shifts_y))[best] / (size / GRID)
        bdy = torch.tensor([dy for dy in shifts_y for _ in shifts_x])[best] / (size / GRID)
        quality = c.min(1).values / (c.mean(1) + 1e-6)
        out.append(torch.stack([bdx, bdy, quality], -1).reshape(len(x), -1, 3).numpy())
    return np.concatenate(out)


def colour_matching(images: np.ndarray) -> np.ndarray:
    """Each token of image 2 to the token of image 1 (rows +-2) with the nearest 2 x 2 mean colours."""
    x = torch.tensor(np.asarray(images, dtype=np.float32) / 1020.0).permute(0, 1, 4, 2, 3)
    b, size = x.shape[0], x.shape[-1]
    cells = F.avg_pool2d(x.reshape(b * 2, 3, size, size), size // (2 * GRID))
    d = cells.reshape(b, 2, 3, GRID, 2, GRID, 2).permute(0, 1, 3, 5, 2, 4, 6).reshape(b, 2, GRID * GRID, 12)
    cost = torch.cdist(d[:, 1], d[:, 0]) ** 2
    row, col = torch.arange(GRID * GRID) // GRID, torch.arange(GRID * GRID) % GRID
    cost = torch.where((row[:, None] - row[None, :]).abs() <= 2, cost, torch.full_like(cost, 1e9))
    best = cost.argmin(-1)
    ranked = cost.sort(-1).values
    return torch.stack([(col - col[best]).float(), (row - row[best]).float(),
                        ranked[..., 0] / (ranked[..., 1] + 1e-6)], -1).numpy()


FEATURES = {
    "trueflow": ("true token flow", lambda d: d["flow"]),
    "small": ("true flow of the tokens moving at most 1 token", lambda d: small_flow(d["flow"], 1.0)),
    "center": ("true flow of the central 4x4 tokens, whole tokens, clipped to 2", lambda d: central_flow(d["flow"])),
    "blocks": ("block matching on pixels", lambda d: block_matching(d["images"])),
    "colours": ("nearest token by mean colours", lambda d: colour_matching(d["images"])),
}


def predicted_flow(run: str, path: str, count: int) -> np.ndarray:
    """The flow a vision-stage checkpoint reads from its first layer's image-2 states: [N, 64, 3]."""
    checkpoint = load_checkpoint(os.path.join(run, "vision.pt"))
    dims = Dims(**checkpoint["dims"])
    model = TinyVLM(dims, checkpoint["vocabulary"], seed=1)
    model.load_state_dict(checkpoint["model"])
    head = MotionHead(dims.hiddenSize)
    head.load_state_dict(checkpoint["head"])
    layers = int(checkpoint["command"].split("--vision-layers")[1].split()[0]) if "--vision-layers" in checkpoint[
        "command"] else 3
    data = Data([path])
    prompts, sampler = Prompts(data.prompts, model), PairSampler(data, "cpu")
    out = []
    with torch.no_grad():
        for start in range(0, min(count, len(data)), 50):
            idx = np.arange(start, min(start + 50, count, len(data)))
            no = np.zeros(len(idx), dtype=bool)
            patches = sampler.batch(idx, no, no, 14 // dims.patchPool)[0]
            _, first = vision_forward(model, prompts, patches, 0, layers)
            f = head.flow(first)  # trained on 4 x the flow, and visibility logits
            out.append(torch.cat([f[..., :2] / 4, torch.sigmoid(f[..., 2:3])], -1).numpy())
    return np.concatenate(out)


def flow_error(predicted: np.ndarray, val: dict) -> dict:
    """Median |dx| error and median true |dx| (tokens) over the visible tokens, orbits and the rest."""
    seen = val["flow"][..., 2] > 0
    orbit = val["labels"][:, 4] == val["kinds"].index("orbit")
    error = np.abs(predicted[..., 0] - val["flow"][..., 0]) / TOKEN
    truth = np.abs(val["flow"][..., 0]) / TOKEN
    return {name: {"medianError": round(float(np.median(error[m][seen[m]])), 2),
                   "medianFlow": round(float(np.median(truth[m][seen[m]])), 2)}
            for name, m in (("orbit", orbit), ("rest", ~orbit))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="training set folder (export-dataset.ts)")
    parser.add_argument("--val", required=True, help="validation set folder")
    parser.add_argument("--pairs", type=int, default=3000, help="training pairs for the classifiers")
    parser.add_argument("--only", default=",".join(FEATURES), help="comma-separated: " + ", ".join(FEATURES))
    parser.add_argument("--vision-run", default="", help="also score the flow predicted by RUN/vision.pt")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    train, val = load(args.data, args.pairs), load(args.val, 10**9)
    kinds = val["kinds"]
    names = args.only.split(",")
    if args.vision_run:
        train["predicted"] = predicted_flow(args.vision_run, args.data, args.pairs)
        val["predicted"] = predicted_flow(args.vision_run, args.val, 10**9)
        FEATURES["predicted"] = (f"flow predicted by {args.vision_run}", lambda d: d["predicted"])
        names.append("predicted")
        print(json.dumps({"predictedFlowError": flow_error(val["predicted"], val)}), flush=True)
    for name in names:
        title, features = FEATURES[name]
        started = time.monotonic()
        xt, xv = features(train), features(val)
        row = {"features": name, "title": title, "trainPairs": len(xt), "valPairs": len(xv)}
        for column, question in ((0, "egoTranslation"), (1, "yawRotation")):
            right = fit_predict(xt, train["labels"][:, column], xv) == val["labels"][:, column]
            row[question] = {"all": round(float(right.mean()), 2)} | {
                kind: round(float(right[val["labels"][:, 4] == k].mean()), 2)
                for k, kind in enumerate(kinds) if (val["labels"][:, 4] == k).any()}
        row["seconds"] = round(time.monotonic() - started)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
