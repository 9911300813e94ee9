"""Prompt layout of Qwen2.5-VL as the actial-ros engine builds it (src/model/image-tokens.ts).

Pure Python (no torch, no numpy), so that the engine's TypeScript and this file can be compared on
the same inputs anywhere (src/model/export-layout.test.ts runs `python3 qwen_layout.py --vectors`).

- expand_image_placeholders: each `<|image_pad|>` id becomes t*h*w/merge^2 copies, images in order.
- mrope_positions: M-RoPE position ids [3][S] and rope_delta. Text tokens count up on all three
  rows; the merged patches of an image placed at offset `off` get (off + t, off + h, off + w) in
  raster order; text after an image resumes at the image's max + 1. A token appended at index
  i >= S (a decode step) sits at i + rope_delta on all three rows.

These equal transformers' Qwen2_5_VLModel.get_rope_index for images (grid_t = 1, where
second_per_grid_t * tokens_per_second does not enter); export.py --check compares them with it.
"""

from __future__ import annotations

import json
import sys
from typing import List, Sequence, Tuple

Grid = Tuple[int, int, int]

QWEN_TOKEN_IDS = {
    "endoftext": 151643,
    "im_start": 151644,
    "im_end": 151645,
    "vision_start": 151652,
    "vision_end": 151653,
    "vision_pad": 151654,
    "image_pad": 151655,
    "video_pad": 151656,
}

# The chat template of Qwen2.5-VL-7B-Instruct (its chat_template.json), verbatim; equal to
# src/model/tiny/chat-template.ts (checked by src/model/export-layout.test.ts).
QWEN2_5_VL_CHAT_TEMPLATE = "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}{% for message in messages %}{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n{% else %}{% for content in message['content'] %}{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>{% elif content['type'] == 'video' or 'video' in content %}{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"


def image_token_count(grid: Sequence[int], merge: int) -> int:
    """Number of image tokens (merged patches) of an image with patch grid [t, h, w]."""
    t, h, w = (int(v) for v in grid)
    if min(t, h, w) <= 0 or h % merge or w % merge:
        raise ValueError(f"image grid {list(grid)} is not positive integers with h and w multiples of {merge}")
    return t * h * w // (merge * merge)


def expand_image_placeholders(
    ids: Sequence[int], grids: Sequence[Sequence[int]], image_token_id: int, merge: int = 2
) -> List[int]:
    """Repeats each image placeholder id as many times as its image has merged patches."""
    placeholders = sum(1 for i in ids if i == image_token_id)
    if placeholders != len(grids):
        raise ValueError(f"the prompt has {placeholders} image placeholders but {len(grids)} images were given")
    out: List[int] = []
    image = 0
    for token in ids:
        if token != image_token_id:
            out.append(int(token))
            continue
        out.extend([int(token)] * image_token_count(grids[image], merge))
        image += 1
    return out


def mrope_positions(
    ids: Sequence[int], grids: Sequence[Sequence[int]], image_token_id: int, merge: int = 2
) -> Tuple[List[List[int]], int]:
    """M-RoPE positions ([temporal, height, width] rows of len(ids)) and rope_delta."""
    length = len(ids)
    rows: List[List[int]] = [[0] * length for _ in range(3)]
    nxt = 0
    image = 0
    i = 0
    while i < length:
        if ids[i] != image_token_id:
            for row in rows:
                row[i] = nxt
            nxt += 1
            i += 1
            continue
        if image >= len(grids):
            raise ValueError(f"image token at index {i} has no image (only {len(grids)} given)")
        grid = grids[image]
        image += 1
        count = image_token_count(grid, merge)
        t, h, w = int(grid[0]), int(grid[1]) // merge, int(grid[2]) // merge
        if i + count > length or any(x != image_token_id for x in ids[i : i + count]):
            raise ValueError(f"image {image - 1} (grid {list(grid)}) needs {count} consecutive image tokens at {i}")
        for k in range(count):
            rows[0][i + k] = nxt + k // (h * w)
            rows[1][i + k] = nxt + (k // w) % h
            rows[2][i + k] = nxt + k % w
        nxt += max(t, h, w)
        i += count
    if image != len(grids):
        raise ValueError(f"the sequence has image tokens for {image} images but {len(grids)} were given")
    return rows, nxt - length


def decode_position(index: int, rope_delta: int) -> int:
    """Position (same on all three rows) of the token appended at sequence index `index`."""
    return index + rope_delta


def question_prompt(question: str, image_count: int, system: str | None = None) -> str:
    """The prompt the Qwen2.5-VL chat template renders for images-then-question (one placeholder per image).

    Equal to src/model/chat-template.ts renderQuestion with the Qwen2.5-VL-7B-Instruct template:
    with no system prompt the template inserts 'You are a helpful assistant.'.
    """
    system_text = system if system else "You are a helpful assistant."
    images = "<|vision_start|><|image_pad|><|vision_end|>" * image_count
    return (
        f"<|im_start|>system\n{system_text}<|im_end|>\n"
        f"<|im_start|>user\n{images}{question}<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def run_vectors(cases: list) -> list:
    """Evaluates test cases {ids, grids, image_token_id?, merge?} or {question, image_count, system?}.

    See src/model/export-layout.test.ts.
    """
    results = []
    for case in cases:
        if case.get("chat_template"):
            results.append({"chat_template": QWEN2_5_VL_CHAT_TEMPLATE})
            continue
        if "question" in case:
            results.append({"prompt": question_prompt(case["question"], case["image_count"], case.get("system"))})
            continue
        token = case.get("image_token_id", QWEN_TOKEN_IDS["image_pad"])
        merge = case.get("merge", 2)
        try:
            expanded = expand_image_placeholders(case["ids"], case["grids"], token, merge)
            rows, delta = mrope_positions(expanded, case["grids"], token, merge)
            results.append({"expanded": expanded, "position_ids": rows, "rope_delta": delta})
        except ValueError as error:
            results.append({"error": str(error)})
    return results


def main(argv: Sequence[str]) -> int:
    if len(argv) == 2 and argv[0] == "--vectors":
        with open(argv[1], encoding="utf-8") as f:
            cases = json.load(f)
        json.dump(run_vectors(cases), sys.stdout)
        sys.stdout.write("\n")
        return 0
    sys.stderr.write("usage: qwen_layout.py --vectors CASES.json  (prints the expansion and positions as JSON)\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
