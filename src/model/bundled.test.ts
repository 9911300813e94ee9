import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { BUNDLED_MODEL_NAME, bundledModelDir, packageRoot } from './bundled.js';
import { loadModelFolder } from './folder.js';

describe('bundledModelDir', () => {
  it('is models/actial-tiny-viewpoint at the package root, a loadable model folder', async () => {
    const dir = bundledModelDir();
    expect(basename(dir)).toBe(BUNDLED_MODEL_NAME);
    expect(basename(dirname(dir))).toBe('models');
    expect(existsSync(join(dirname(dirname(dir)), 'package.json'))).toBe(true);
    await expect(loadModelFolder(dir)).resolves.toMatchObject({ dir });
  });

  it('finds the package root from src/model and from dist/model alike', async () => {
    const root = await mkdtemp(join(tmpdir(), 'actial-bundled-'));
    try {
      await writeFile(join(root, 'package.json'), '{}');
      for (const sub of ['src/model', 'dist/model']) {
        await mkdir(join(root, sub), { recursive: true });
        expect(packageRoot(join(root, sub, 'bundled.js'))).toBe(root);
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
