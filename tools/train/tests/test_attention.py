"""TinyVLM's fused attention (torch >= 2.0) against the three-op form the ONNX graphs compute.

  /usr/bin/python3 -m unittest discover -s tools/train/tests
"""

import os
import sys
import unittest

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import tiny_vlm  # noqa: E402
from stages import default_dims  # noqa: E402


class AttentionTest(unittest.TestCase):
    @unittest.skipUnless(tiny_vlm.FUSED_ATTENTION, "torch < 2.0 has no fused attention")
    def test_fused_equals_three_ops_forward_and_backward(self):
        d = default_dims()
        model = tiny_vlm.TinyVLM(d, list(range(40)), seed=3)
        g = torch.Generator().manual_seed(5)
        length = 37
        allowed = torch.ones(length, length, dtype=torch.bool).tril()
        allowed[20:, 3:9] = False  # a padded span, as batches of prompts of different lengths have
        results = []
        for fused in (True, False):
            tiny_vlm.FUSED_ATTENTION = fused
            try:
                q = torch.randn(4, d.numHeads, length, d.headDim, generator=g.manual_seed(5)).requires_grad_()
                k = torch.randn(4, d.numKvHeads, length, d.headDim, generator=g).requires_grad_()
                v = torch.randn(4, d.numKvHeads, length, d.headDim, generator=g).requires_grad_()
                out = model._attend(q, k, v, allowed)
                (out * torch.linspace(-1, 1, out.numel()).reshape(out.shape)).sum().backward()
                results.append([out.detach(), q.grad, k.grad, v.grad])
            finally:
                tiny_vlm.FUSED_ATTENTION = True
        for fused, plain in zip(*results):
            torch.testing.assert_close(fused, plain, rtol=1e-5, atol=1e-5)


if __name__ == "__main__":
    unittest.main()
