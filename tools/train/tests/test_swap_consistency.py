"""stages.swap_consistency: zero when a pair's swapped copy answers the mirror, larger otherwise.

  /usr/bin/python3 -m unittest discover -s tools/train/tests
"""

import os
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
        loss = swap_consistency(torch.cat([self.forward, self.mirrored]), 5)
        self.assertLess(loss.item(), 1e-6)

    def test_positive_for_the_same_answer_both_ways(self):
        loss = swap_consistency(torch.cat([self.forward, self.forward]), 5)
        self.assertGreater(loss.item(), 0.05)

    def test_symmetric_in_the_two_orders(self):
        other = torch.randn(5, 6, generator=torch.Generator().manual_seed(12))
        a = swap_consistency(torch.cat([self.forward, other]), 5)
        b = swap_consistency(torch.cat([other, self.forward]), 5)
        torch.testing.assert_close(a, b)

    def test_gradient_pulls_the_copies_together(self):
        logits = torch.cat([self.forward, self.forward]).requires_grad_()
        swap_consistency(logits, 5).backward()
        stepped = (logits - 0.5 * logits.grad).detach()
        self.assertLess(swap_consistency(stepped, 5).item(), swap_consistency(logits.detach(), 5).item())


if __name__ == "__main__":
    unittest.main()
