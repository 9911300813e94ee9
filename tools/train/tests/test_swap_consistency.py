"""stages.swap_consistency: zero when a pair's swapped copy answers the mirror, larger otherwise.

  /usr/bin/python3 -m unittest discover -s tools/train/tests
"""

import os
import subprocess
import sys
import unittest

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from stages import swap_consistency  # noqa: E402


class SwapConsistencyTest(unittest.TestCase):
    def setUp(self):
        g = torch.Generator().manual_seed(11)
        self.forward = torch.randn(5, 6, generator=g)
        # Labels are 0 / 1 / 2 with the mirror 2 - label: the swapped copy that answers the mirror has
        # its three logits of each question in reverse order.
        self.mirrored = self.forward.reshape(5, 2, 3).flip(-1).reshape(5, 6)

    def test_zero_for_mirrored_answers(self):
        loss = swap_consistency(torch.cat([self.forward, self.mirrored]))
        self.assertLess(loss.item(), 1e-6)

    def test_positive_for_the_same_answer_both_ways(self):
        loss = swap_consistency(torch.cat([self.forward, self.forward]))
        self.assertGreater(loss.item(), 0.05)

    def test_symmetric_in_the_two_orders(self):
        other = torch.randn(5, 6, generator=torch.Generator().manual_seed(12))
        a = swap_consistency(torch.cat([self.forward, other]))
        b = swap_consistency(torch.cat([other, self.forward]))
        torch.testing.assert_close(a, b)

    def test_gradient_pulls_the_copies_together(self):
        logits = torch.cat([self.forward, self.forward]).requires_grad_()
        swap_consistency(logits).backward()
        stepped = (logits - 0.5 * logits.grad).detach()
        self.assertLess(swap_consistency(stepped).item(), swap_consistency(logits.detach()).item())


class PairedSwapsOptionsTest(unittest.TestCase):
    """Options that would silently train something else are refused before any data is read."""

    def refused(self, *options: str) -> str:
        stages = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "stages.py")
        done = subprocess.run([sys.executable, stages, "vision", "--data", "/nonexistent", "--val", "/nonexistent",
                               "--run", "/nonexistent", *options], capture_output=True, text=True)
        self.assertEqual(done.returncode, 2, done.stderr)
        return done.stderr

    def test_consistency_without_paired_swaps(self):
        self.assertIn("--swap-consistency 1.0 needs --paired-swaps", self.refused("--swap-consistency", "1"))

    def test_paired_swaps_with_an_odd_batch(self):
        self.assertIn("needs an even --batch", self.refused("--paired-swaps", "--batch", "47"))
        self.assertIn("got 47", self.refused("--paired-swaps", "--batch", "47"))


if __name__ == "__main__":
    unittest.main()
