#!/usr/bin/env python3
"""The golden.py flow on the transformers-like mock, for machines without transformers.

    python3 tools/export/tests/mock_golden.py OUT_DIR
    ACTIAL_GOLDEN_DIR=OUT_DIR npm test -- src/model/golden.test.ts

Exports mock_qwen.py's random model with export.py's functions (fp32) into OUT_DIR, with the
real Qwen2.5 tokenizer and config files, and writes OUT_DIR/reference.json with golden.py's
build_reference from the mock's PyTorch outputs. The jest golden test then compares our engine
(onnxruntime-node) with PyTorch end to end: Python-written graphs, Python-computed reference.
Token ids come from our TypeScript tokenizer (the `tokenizers` package may be absent here), so
this run does not test tokenization; golden.py on a transformers machine does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent.parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import export  # noqa: E402
import golden  # noqa: E402
import make_tiny  # noqa: E402
from mock_qwen import random_mock  # noqa: E402
from qwen_layout import question_prompt  # noqa: E402

TOKENIZE = """
import { readFileSync } from 'node:fs';
import { TextTokenizer } from './src/model/tokenizer.ts';
const dir = process.argv[1];
const t = TextTokenizer.fromJson(JSON.parse(readFileSync(dir + '/tokenizer.json', 'utf8')),
  JSON.parse(readFileSync(dir + '/tokenizer_config.json', 'utf8')));
process.stdout.write(JSON.stringify(t.encode(process.argv[2])));
"""


def main(out: Path) -> int:
    model = random_mock(seed=4, hidden=32)
    with tempfile.TemporaryDirectory() as tmp:
        hf = Path(tmp)
        for name, content in make_tiny.tokenizer_files(make_tiny.DEFAULT_TOKENIZER).items():
            (hf / name).write_bytes(content if isinstance(content, bytes) else content.encode())
        (hf / "preprocessor_config.json").write_text(json.dumps(make_tiny.preprocessor_config()))
        (hf / "generation_config.json").write_text(json.dumps(make_tiny.generation_config()))
        config = make_tiny.config_dict("tiny", hidden=32, vision_depth=2)
        export.write_folder_files(hf, out, "fp32", config)
    export.export_graphs(model, out, "fp32", 14, "cpu", threshold=1 << 20)
    prompt = question_prompt(golden.QUESTION, len(golden.GRIDS))
    ids = json.loads(
        subprocess.run(
            ["node", "--import", "tsx", "--input-type=module", "--eval", TOKENIZE, str(out), prompt],
            cwd=REPO,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    reference = golden.build_reference(model, out / "tokenizer.json", "fp32", steps=4, seed=0, ids=ids)
    reference["producer"]["model"] = "tools/export/tests/mock_qwen.py random_mock(seed=4, hidden=32)"
    (out / "reference.json").write_text(json.dumps(reference) + "\n")
    print(json.dumps({"out": str(out), "steps": len(reference["steps"]), "margins": [s["margin"] for s in reference["steps"]]}))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: mock_golden.py OUT_DIR")
    sys.exit(main(Path(sys.argv[1])))
