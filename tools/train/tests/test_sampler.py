"""PairSampler (stages.py) against the per-pair reference (train.augment / augment_flow).

  /usr/bin/python3 -m unittest discover -s tools/train/tests
"""

import os
import sys
import unittest

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from stages import PairSampler  # noqa: E402
from tiny_vlm import normalize_pooled, pooled_to_patches  # noqa: E402
from train import Data, Shard, augment, augment_flow  # noqa: E402


KINDS = ["orbit", "yaw", "slide", "pan-slide", "still", "tilt"]


def random_data(rng: np.random.Generator, sizes: list[int]) -> Data:
    data = Data.__new__(Data)
    data.shards = []
    for n in sizes:
        labels = rng.integers(0, 3, size=(n, 6)).astype(np.uint8)
        labels[:, 4] = rng.integers(0, len(KINDS), size=n)
        data.shards.append(Shard(
            images=rng.integers(0, 1021, size=(n, 2, 112, 112, 3)).astype(np.uint16),
            labels=labels,
            geometry=rng.normal(size=(n, 4)).astype(np.float32),
            flow=rng.normal(size=(n, 2, 64, 3)).astype(np.float32),
            meta={"count": n, "motionKinds": KINDS},
        ))
    data.index = [(s, i) for s, shard in enumerate(data.shards) for i in range(len(shard.labels))]
    return data


class PairSamplerTest(unittest.TestCase):
    def test_matches_the_per_pair_reference(self):
        rng = np.random.default_rng(3)
        data = random_data(rng, [5, 4])
        sampler = PairSampler(data, "cpu")
        indices = np.array([0, 8, 3, 5, 5, 1])
        swap = np.array([False, True, False, True, False, True])
        flip = np.array([False, False, True, True, True, False])
        patches, labels, sizes, flow = sampler.batch(indices, swap, flip, side=7)
        for row, (k, s, f) in enumerate(zip(indices, swap, flip)):
            images, raw = data.pair(int(k))
            expected_images, ego, yaw = augment(images, raw, bool(s), bool(f))
            expected_patches = pooled_to_patches(normalize_pooled(torch.from_numpy(
                expected_images.astype(np.float32))), side=7)
            torch.testing.assert_close(patches[row], expected_patches)
            self.assertEqual(labels[row].tolist(), [ego, yaw], f"pair {k} swap {s} flip {f}")
            g = data.geometry(int(k))
            yaw_deg, tx = (g[2], g[3]) if s else (g[0], g[1])
            sign = -1.0 if f else 1.0
            torch.testing.assert_close(sizes[row], torch.tensor([sign * yaw_deg / 30.0, sign * tx / 0.5], dtype=torch.float32))
            torch.testing.assert_close(flow[row], torch.from_numpy(augment_flow(data.flow(int(k)), bool(s), bool(f))))

    def test_motion_kinds_come_from_label_column_4(self):
        data = random_data(np.random.default_rng(5), [4, 3])
        sampler = PairSampler(data, "cpu")
        indices = np.array([6, 0, 4, 2])
        expected = [int(data.pair(int(k))[1][4]) for k in indices]
        self.assertEqual(sampler.kinds(indices).tolist(), expected)
        self.assertEqual(sampler.motion_kinds, KINDS)

    def test_swap_and_flip_change_the_labels(self):
        data = random_data(np.random.default_rng(4), [3])
        sampler = PairSampler(data, "cpu")
        plain = sampler.batch(np.array([1]), np.array([False]), np.array([False]), side=7)[1]
        flipped = sampler.batch(np.array([1]), np.array([False]), np.array([True]), side=7)[1]
        self.assertEqual((2 - plain).tolist(), flipped.tolist())
        swapped = sampler.batch(np.array([1]), np.array([True]), np.array([False]), side=7)[1]
        self.assertEqual(swapped[0].tolist(), data.shards[0].labels[1, 2:4].tolist())


if __name__ == "__main__":
    unittest.main()
