"""Tests of the export wrappers against a transformers-like reference, with python3 + torch only.

    python3 -m unittest discover -s tools/export/tests -v      (torch >= 1.13, onnx; no transformers)

The reference (mock_qwen.py) computes what transformers' Qwen2.5-VL computes, the transformers way
(window reordering, per-segment attention, <|vision_start|> walking for positions, repeated K/V);
the wrappers (onnx_modules.py) must give the same numbers in their trace-friendly way, and must
trace to ONNX graphs with exactly the engine's input and output names.
"""

from __future__ import annotations

import sys
import tempfile
import unittest
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from mock_qwen import IMAGE_TOKEN_ID, random_mock  # noqa: E402
from onnx_modules import (  # noqa: E402
    Decoder,
    VisionEncoder,
    empty_past,
    locate_parts,
    merge_image_features,
    patch_coordinates,
)
from qwen_layout import expand_image_placeholders, mrope_positions, question_prompt  # noqa: E402

GRID_SETS = [
    [[1, 12, 16], [1, 8, 12]],
    [[1, 4, 4]],
    [[2, 8, 8]],
    [[1, 2, 30], [1, 18, 2], [1, 10, 10]],
]


def pixels(grids, seed=0):
    g = torch.Generator().manual_seed(seed)
    rows = sum(t * h * w for t, h, w in grids)
    return torch.rand(rows, 1176, generator=g) * 4 - 2


def prompt_ids(grids, seed=0):
    """A chat-shaped id sequence with one placeholder per image (text ids arbitrary)."""
    g = torch.Generator().manual_seed(seed)
    ids = [151644, 8948, 198, 151645, 198, 151644, 872, 198]
    for _ in grids:
        ids += [151652, IMAGE_TOKEN_ID, 151653]
    ids += torch.randint(100, 5000, (9,), generator=g).tolist() + [151645, 198, 151644, 77091, 198]
    return ids


class PatchCoordinates(unittest.TestCase):
    def test_rows_columns_equal_transformers_rotary_ids(self):
        visual = random_mock().model.visual
        for grids in GRID_SETS:
            grid = torch.tensor(grids)
            n = int((grid[:, 0] * grid[:, 1] * grid[:, 2]).sum())
            coords = patch_coordinates(grid, torch.arange(n), 2)
            table = visual.rotary_pos_emb(int(grid[:, 1:].max()))
            expected = visual.rot_pos_emb(grid)
            got = torch.cat((table[coords["row"]], table[coords["col"]]), -1)
            torch.testing.assert_close(got, expected, rtol=0, atol=0)

    def test_windows_equal_transformers_window_partition(self):
        visual = random_mock().model.visual
        for grids in GRID_SETS:
            grid = torch.tensor(grids)
            order, cu = visual.window_index(grid)
            cu = torch.unique_consecutive(torch.tensor(cu))
            # transformers: merged token order[k] lies in the window segment containing 4k.
            window_of_token = torch.empty(len(order), dtype=torch.int64)
            for w, (a, b) in enumerate(zip(cu[:-1].tolist(), cu[1:].tolist())):
                window_of_token[order[a // 4 : b // 4]] = w
            n = 4 * len(order)
            coords = patch_coordinates(grid, torch.arange(n), 2)
            tokens = torch.arange(n) // 4
            expected = window_of_token[tokens]
            same_expected = expected[:, None] == expected[None, :]
            from onnx_modules import vision_masks

            _, same_window = vision_masks(coords, 4)
            self.assertTrue(torch.equal(same_window, same_expected), f"grids {grids}")


class VisionEncoderTest(unittest.TestCase):
    def test_equals_the_reference_tower_for_several_images_and_sizes(self):
        model = random_mock(seed=3)
        encoder = VisionEncoder(model.model.visual, model.config.vision_config).eval()
        with torch.no_grad():
            for i, grids in enumerate(GRID_SETS):
                pv = pixels(grids, i)
                grid = torch.tensor(grids)
                expected = model.get_image_features(pv, grid)
                got = encoder(pv, grid)
                torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)
                # One image per run (as the engine runs it) gives the same rows.
                start, rows = 0, []
                for g in grids:
                    count = g[0] * g[1] * g[2]
                    rows.append(encoder(pv[start : start + count], torch.tensor([g])))
                    start += count
                torch.testing.assert_close(torch.cat(rows), expected, rtol=1e-4, atol=1e-4)


class DecoderTest(unittest.TestCase):
    def test_prefill_and_cached_steps_equal_the_reference(self):
        model = random_mock(seed=5, hidden=64)
        parts = locate_parts(model)
        decoder = Decoder(parts.text_model, parts.lm_head, parts.text_config).eval()
        grids = [[1, 12, 16], [1, 8, 12]]
        ids = expand_image_placeholders(prompt_ids(grids), grids, IMAGE_TOKEN_ID)
        rows, delta = mrope_positions(ids, grids, IMAGE_TOKEN_ID)
        ids_t = torch.tensor([ids])
        grid = torch.tensor(grids)
        pv = pixels(grids, 7)
        with torch.no_grad():
            hf_positions, hf_delta = model.get_rope_index(ids_t, grid)
            self.assertEqual(hf_positions[:, 0].tolist(), rows)
            self.assertEqual(int(hf_delta[0, 0]), delta)

            ref = model(input_ids=ids_t, pixel_values=pv, image_grid_thw=grid)
            embeds = parts.text_model.embed_tokens(ids_t)
            embeds = merge_image_features(embeds, ids_t, model.get_image_features(pv, grid), IMAGE_TOKEN_ID)
            past = empty_past(decoder, 1, torch.float32, "cpu")
            n = len(ids)
            out = decoder(embeds, torch.ones(1, n, dtype=torch.int64), torch.tensor(rows).view(3, 1, n), *past, torch.tensor(0))
            torch.testing.assert_close(out[0], ref.logits, rtol=1e-4, atol=1e-4)
            last = decoder(embeds, torch.ones(1, n, dtype=torch.int64), torch.tensor(rows).view(3, 1, n), *past, torch.tensor(1))
            torch.testing.assert_close(last[0], ref.logits[:, -1:], rtol=1e-4, atol=1e-4)
            presents = list(out[1:])
            cache = ref.past_key_values
            total = n
            for tokens in ([77, ], [32, 33, 34]):
                k = len(tokens)
                step_ids = torch.tensor([tokens])
                ref = model(input_ids=step_ids, past_key_values=cache, cache_position=torch.arange(total, total + k))
                cache = ref.past_key_values
                positions = torch.arange(total, total + k).add(delta).view(1, 1, k).expand(3, 1, k)
                out = decoder(
                    parts.text_model.embed_tokens(step_ids),
                    torch.ones(1, total + k, dtype=torch.int64),
                    positions,
                    *presents,
                    torch.tensor(0),
                )
                torch.testing.assert_close(out[0], ref.logits, rtol=1e-4, atol=1e-4)
                presents = list(out[1:])
                total += k

    def test_padding_keys_are_masked(self):
        model = random_mock(seed=2)
        parts = locate_parts(model)
        decoder = Decoder(parts.text_model, parts.lm_head, parts.text_config).eval()
        ids = torch.tensor([[5, 6, 7, 8]])
        embeds = parts.text_model.embed_tokens(ids)
        positions = torch.arange(4).view(1, 1, 4).expand(3, 1, 4)
        past = empty_past(decoder, 1, torch.float32, "cpu")
        with torch.no_grad():
            full = decoder(embeds, torch.ones(1, 4, dtype=torch.int64), positions, *past, torch.tensor(1))[0]
            masked = decoder(embeds, torch.tensor([[0, 1, 1, 1]]), positions, *past, torch.tensor(1))[0]
            alone = decoder(embeds[:, 1:], torch.ones(1, 3, dtype=torch.int64), positions[..., 1:], *past, torch.tensor(1))[0]
        self.assertGreater(float((full - masked).abs().max()), 1e-4)
        torch.testing.assert_close(masked, alone, rtol=1e-4, atol=1e-4)


class ExportTest(unittest.TestCase):
    def test_graphs_have_the_engine_names_and_dynamic_dims(self):
        import onnx

        sys.path.insert(0, str(HERE.parent))
        import export

        model = random_mock(seed=1)
        with tempfile.TemporaryDirectory() as tmp:
            results = export.export_graphs(model, Path(tmp), "fp32", 14, "cpu", threshold=1 << 20)
            by_name = {Path(r["file"]).name: r for r in results}
            self.assertEqual(
                sorted(by_name), ["decoder_model_merged.onnx", "embed_tokens.onnx", "vision_encoder.onnx"]
            )
            self.assertEqual(by_name["embed_tokens.onnx"]["external_data"], "embed_tokens.onnx_data")
            self.assertTrue((Path(tmp) / "onnx" / "embed_tokens.onnx_data").exists())

            def io(path):
                m = onnx.load(str(Path(tmp) / "onnx" / path), load_external_data=False)

                def dims(v):
                    return [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]

                inputs = {v.name: dims(v) for v in m.graph.input}
                outputs = {v.name: dims(v) for v in m.graph.output}
                return inputs, outputs

            inputs, outputs = io("vision_encoder.onnx")
            self.assertEqual(inputs, {"pixel_values": ["num_patches", 1176], "image_grid_thw": ["num_images", 3]})
            self.assertEqual(outputs, {"image_features": ["num_merged_patches", 32]})
            inputs, outputs = io("embed_tokens.onnx")
            self.assertEqual(inputs, {"input_ids": ["batch_size", "sequence_length"]})
            self.assertEqual(outputs, {"inputs_embeds": ["batch_size", "sequence_length", 32]})
            inputs, outputs = io("decoder_model_merged.onnx")
            self.assertEqual(inputs["inputs_embeds"], ["batch_size", "sequence_length", 32])
            self.assertEqual(inputs["attention_mask"], ["batch_size", "total_sequence_length"])
            self.assertEqual(inputs["position_ids"], [3, "batch_size", "sequence_length"])
            self.assertEqual(inputs["num_logits_to_keep"], [])
            self.assertEqual(inputs["past_key_values.1.value"], ["batch_size", 1, "past_sequence_length", 16])
            self.assertEqual(len(inputs), 3 + 4 + 1)
            self.assertEqual(outputs["logits"], ["batch_size", "num_logits", 151936])
            self.assertEqual(outputs["present.0.key"], ["batch_size", 1, "total_sequence_length", 16])
            self.assertEqual(len(outputs), 1 + 4)


class FolderFilesTest(unittest.TestCase):
    def test_flat_and_nested_configs_get_text_config_and_token_ids(self):
        sys.path.insert(0, str(HERE.parent))
        import export
        import make_tiny

        for nested in (False, True):
            config = make_tiny.config_dict("tiny", hidden=32, nested=nested)
            out = export.folder_config(config, "fp16")
            self.assertEqual(out["text_config"]["model_type"], "qwen2_5_vl_text")
            self.assertEqual(out["text_config"]["num_hidden_layers"], 2)
            self.assertEqual(out["text_config"]["rope_scaling"]["mrope_section"], [2, 3, 3])
            self.assertNotIn("vision_config", out["text_config"])
            self.assertEqual((out["image_token_id"], out["vision_start_token_id"]), (151655, 151652))
            self.assertEqual(out["vision_config"]["spatial_merge_size"], 2)

    def test_preprocessor_fields_are_explicit_and_keep_the_checkpoint_limits(self):
        import export

        out = export.folder_preprocessor({"min_pixels": 3136, "max_pixels": 200704})
        self.assertEqual(out["size"], {"shortest_edge": 3136, "longest_edge": 200704})
        self.assertEqual((out["resample"], out["do_normalize"], out["do_resize"]), (3, True, True))
        self.assertEqual(out["processor_class"], "Qwen2_5_VLProcessor")

    def test_difference_is_normalised_by_the_reference(self):
        import export

        d = export.difference(torch.tensor([1.0, 2.5]), torch.tensor([1.0, 2.0]))
        self.assertAlmostEqual(d["max_abs"], 0.5)
        self.assertAlmostEqual(d["normalised"], 0.25)
        self.assertEqual(export.difference(torch.zeros(2), torch.zeros(3))["normalised"], float("inf"))


class LayoutTest(unittest.TestCase):
    def test_positions_equal_the_reference_rope_index_on_many_layouts(self):
        model = random_mock()
        g = torch.Generator().manual_seed(11)
        for _ in range(30):
            count = int(torch.randint(0, 4, (1,), generator=g))
            grids = [[1, 2 * int(torch.randint(1, 10, (1,), generator=g)), 2 * int(torch.randint(1, 10, (1,), generator=g))] for _ in range(count)]
            ids = expand_image_placeholders(prompt_ids(grids, int(torch.randint(0, 99, (1,), generator=g))), grids, IMAGE_TOKEN_ID)
            rows, delta = mrope_positions(ids, grids, IMAGE_TOKEN_ID)
            hf_rows, hf_delta = model.get_rope_index(torch.tensor([ids]), torch.tensor(grids) if grids else None)
            self.assertEqual(hf_rows[:, 0].tolist(), rows)
            self.assertEqual(int(hf_delta[0, 0]), delta)

    def test_question_prompt_has_one_placeholder_per_image(self):
        prompt = question_prompt("Where?", 2)
        self.assertEqual(prompt.count("<|image_pad|>"), 2)
        self.assertTrue(prompt.endswith("<|im_start|>assistant\n"))


if __name__ == "__main__":
    unittest.main()
