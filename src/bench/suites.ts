import { bagSuite } from './bag.js';
import { e2eSuite } from './e2e.js';
import type { BenchSuite } from './figure.js';
import { engineSuite } from './engine.js';
import { preprocessSuite } from './image.js';
import { letterBiasSuite } from './letter-bias.js';
import { pairingSuite } from './pairing.js';
import { soakSuite } from './soak.js';

/** Every benchmark suite, in the order they run. Each area adds its suite here. */
export const suites: readonly BenchSuite[] = [
  pairingSuite,
  engineSuite,
  preprocessSuite,
  bagSuite,
  letterBiasSuite,
  e2eSuite,
  soakSuite,
];
