/**
 * The Python exporter (tools/export/qwen_layout.py) builds prompts, image-token expansion and
 * M-RoPE positions for its checks and golden references; they must equal the engine's. Runs the
 * Python code on the same cases and compares. Needs only python3 (no torch).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatTemplate } from './chat-template.js';
import { RequestError } from './errors.js';
import { expandImagePlaceholders, mropePositions, type ImageGrid } from './image-tokens.js';
import { QWEN2_5_VL_CHAT_TEMPLATE } from './tiny/chat-template.js';

const IMAGE = 151655;
const VS = 151652;
const VE = 151653;
const layout = { imageTokenId: IMAGE, spatialMergeSize: 2 };
const SCRIPT = join(process.cwd(), 'tools', 'export', 'qwen_layout.py');

interface LayoutCase {
  readonly ids: number[];
  readonly grids: ImageGrid[];
}
interface PromptCase {
  readonly question: string;
  readonly image_count: number;
  readonly system?: string;
}
type PythonResult =
  | { expanded: number[]; position_ids: number[][]; rope_delta: number }
  | { error: string }
  | { prompt: string }
  | { chat_template: string };

function runPython(cases: readonly (LayoutCase | PromptCase | { chat_template: true })[]): PythonResult[] {
  const dir = mkdtempSync(join(tmpdir(), 'actial-layout-'));
  try {
    const file = join(dir, 'cases.json');
    writeFileSync(file, JSON.stringify(cases));
    const out = execFileSync(process.env.PYTHON ?? 'python3', [SCRIPT, '--vectors', file], {
      encoding: 'utf8',
    });
    return JSON.parse(out) as PythonResult[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Deterministic pseudo-random integers (mulberry32). */
function prng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n) as number;
  };
}

function randomCase(seed: number): LayoutCase {
  const next = prng(seed);
  const ids: number[] = [];
  const grids: ImageGrid[] = [];
  const images = next(4);
  for (let i = 0; i < images; i++) {
    for (let k = next(6); k > 0; k--) ids.push(1000 + next(5000));
    ids.push(VS, IMAGE, VE);
    grids.push([1 + next(2), 2 * (1 + next(9)), 2 * (1 + next(9))]);
  }
  for (let k = 1 + next(6); k > 0; k--) ids.push(1000 + next(5000));
  return { ids, grids };
}

function rowsOf(positions: BigInt64Array): number[][] {
  const n = positions.length / 3;
  return [0, 1, 2].map((r) => Array.from(positions.subarray(r * n, (r + 1) * n), Number));
}

describe('tools/export/qwen_layout.py vs the engine', () => {
  it('expands placeholders and computes M-RoPE positions like src/model/image-tokens.ts', () => {
    const worked: LayoutCase = {
      // DESIGN.md section 3 worked example: grid [1, 4, 4], rope_delta -2.
      ids: [151644, 872, 198, VS, IMAGE, VE, 9064, 374, 151645, 198, 151644, 77091, 198],
      grids: [[1, 4, 4]],
    };
    const cases = [worked, ...Array.from({ length: 60 }, (_, i) => randomCase(i + 1))];
    const results = runPython(cases);
    expect(results).toHaveLength(cases.length);
    let images = 0;
    cases.forEach((c, i) => {
      const expanded = expandImagePlaceholders(c.ids, c.grids, layout);
      const { positionIds, ropeDelta } = mropePositions(expanded, c.grids, layout);
      expect(results[i]).toEqual({ expanded, position_ids: rowsOf(positionIds), rope_delta: ropeDelta });
      images += c.grids.length;
    });
    expect(images).toBeGreaterThan(40);
    expect(results[0]).toMatchObject({ rope_delta: -2 });
  });

  it('refuses a placeholder count that differs from the image count, as the engine does', () => {
    const bad: LayoutCase = { ids: [VS, IMAGE, VE, VS, IMAGE, VE], grids: [[1, 2, 2]] };
    expect(() => expandImagePlaceholders(bad.ids, bad.grids, layout)).toThrow(RequestError);
    const [result] = runPython([bad]);
    expect(result).toHaveProperty('error');
  });

  it('renders the images-then-question prompt like the Qwen2.5-VL chat template', () => {
    const template = new ChatTemplate(QWEN2_5_VL_CHAT_TEMPLATE);
    const cases: PromptCase[] = [
      { question: 'Did the camera move left or right?', image_count: 2 },
      { question: 'What is this?', image_count: 1, system: 'You are Actial.' },
      { question: 'Hello', image_count: 0 },
    ];
    const results = runPython(cases);
    cases.forEach((c, i) => {
      const expected = template.renderQuestion({
        system: c.system,
        imageCount: c.image_count,
        question: c.question,
      });
      expect(results[i]).toEqual({ prompt: expected });
    });
  });

  it('writes the Qwen2.5-VL-7B-Instruct chat template verbatim (make_tiny.py)', () => {
    expect(runPython([{ chat_template: true }])).toEqual([{ chat_template: QWEN2_5_VL_CHAT_TEMPLATE }]);
  });
});
