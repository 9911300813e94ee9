/**
 * Test support, not part of the public API: copies of a model folder with one part changed,
 * linking the unchanged files so that a copy costs almost nothing.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** Per relative path: new content, or null to leave the file out. */
export type FolderChanges = Readonly<Record<string, string | Uint8Array | null>>;

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(join(dir, prefix), { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...(await listFiles(dir, path)));
    else files.push(path);
  }
  return files;
}

/** A temporary copy of `source` with `changes` applied; call `remove` when done. */
export async function variantFolder(
  source: string,
  changes: FolderChanges,
): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'actial-model-variant-'));
  for (const path of await listFiles(source)) {
    if (path in changes) continue;
    await mkdir(join(dir, path, '..'), { recursive: true });
    await symlink(join(source, path), join(dir, path));
  }
  for (const [path, content] of Object.entries(changes)) {
    if (content === null) continue;
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Parsed JSON file of a folder. */
export async function readFolderJson(dir: string, path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(dir, path), 'utf8')) as Record<string, unknown>;
}

/**
 * Moves the weights of an ONNX graph into an external data file (`location` next to the graph),
 * as exporters do for graphs over 2 GB: returns the new graph bytes and the data file's bytes.
 */
export function externalizeWeights(
  graph: Uint8Array,
  location: string,
): { graph: Uint8Array; data: Uint8Array } {
  const model = onnx.ModelProto.decode(graph);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const tensor of model.graph?.initializer ?? []) {
    const raw = tensor.rawData;
    if (!raw || raw.length < 1024) continue;
    const padding = (4096 - (offset % 4096)) % 4096;
    if (padding) chunks.push(new Uint8Array(padding));
    offset += padding;
    chunks.push(raw);
    tensor.externalData = [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.length) },
    ];
    tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    tensor.rawData = new Uint8Array(0);
    offset += raw.length;
  }
  const data = new Uint8Array(offset);
  let at = 0;
  for (const chunk of chunks) {
    data.set(chunk, at);
    at += chunk.length;
  }
  return { graph: onnx.ModelProto.encode(model).finish(), data };
}

/**
 * The same graph with a float16 interface: every float32 input and output becomes float16, cast to
 * and from float32 at the graph's edges (as an fp16 or q4f16 export presents itself to its caller),
 * while the computation inside stays float32.
 */
export function float16Interface(graph: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(graph);
  const body = model.graph;
  if (!body) throw new Error('graph has no body');
  const { FLOAT, FLOAT16 } = onnx.TensorProto.DataType;
  const inner = (name: string) => `${name}__float32`;
  const rename = (names: string[] | null | undefined, from: string, to: string) =>
    names?.forEach((name, i) => {
      if (name === from) names[i] = to;
    });
  const cast = (input: string, output: string, to: number) =>
    onnx.NodeProto.create({
      opType: 'Cast',
      input: [input],
      output: [output],
      attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: to }],
    });
  const head: onnxProto.onnx.INodeProto[] = [];
  const tail: onnxProto.onnx.INodeProto[] = [];
  for (const input of body.input ?? []) {
    const tensorType = input.type?.tensorType;
    if (tensorType?.elemType !== FLOAT || !input.name) continue;
    for (const node of body.node ?? []) rename(node.input, input.name, inner(input.name));
    head.push(cast(input.name, inner(input.name), FLOAT));
    tensorType.elemType = FLOAT16;
  }
  for (const output of body.output ?? []) {
    const tensorType = output.type?.tensorType;
    if (tensorType?.elemType !== FLOAT || !output.name) continue;
    for (const node of body.node ?? []) {
      rename(node.output, output.name, inner(output.name));
      rename(node.input, output.name, inner(output.name));
    }
    tail.push(cast(inner(output.name), output.name, FLOAT16));
    tensorType.elemType = FLOAT16;
  }
  body.node = [...head, ...(body.node ?? []), ...tail];
  return onnx.ModelProto.encode(model).finish();
}
