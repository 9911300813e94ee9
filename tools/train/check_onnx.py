#!/usr/bin/env python3
"""Validates the ONNX graphs of a model folder with the onnx checker (full check, shape inference).

  python3 tools/train/check_onnx.py models/actial-tiny-viewpoint
"""

import glob
import os
import sys

import onnx

folder = sys.argv[1] if len(sys.argv) > 1 else "models/actial-tiny-viewpoint"
files = sorted(glob.glob(os.path.join(folder, "onnx", "*.onnx")))
if not files:
    raise SystemExit(f"no ONNX files under {folder}/onnx")
for path in files:
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    inputs = ", ".join(i.name for i in model.graph.input)
    print(f"{path}: ok (IR {model.ir_version}, opset {model.opset_import[0].version}; inputs {inputs})")
