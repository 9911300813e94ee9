import { createHash } from 'node:crypto';
import type { BagStorage } from '../bag/reader.js';
import type { NodeConfig } from '../config/schema.js';
import type { LabelOptions } from '../spatial/labels.js';
import type { EvalResult } from './evaluate.js';
import {
  accuracyOf,
  accuracyOverTime,
  confusionOf,
  consistencyStatistics,
  distribution,
  QUESTION_TYPES,
  yawStatistics,
  type Accuracy,
  type ConfusionMatrix,
  type ConsistencyStatistics,
  type Distribution,
  type QuestionType,
  type YawStatistics,
} from './metrics.js';
import type { ModelSource } from './model.js';
import { SKIP_REASONS, type SkipReason } from './truth.js';

/** Identifies the layout of report.json. */
export const REPORT_SCHEMA = 'actial-eval-report/1';

/** One scored pair in report.json (stamps as decimal nanosecond strings). */
export interface ReportPair {
  readonly cameras: readonly [string, string];
  readonly stamps: readonly [string, string];
  /** Optical frames the truth was looked up for. */
  readonly frames: readonly [string, string];
  readonly truth: {
    readonly egoTranslation: string;
    readonly objectTranslation: string;
    readonly yawRotation: string;
    readonly yawDegrees: number;
  };
  readonly prediction: {
    readonly egoTranslation: string;
    readonly objectTranslation: string;
    readonly yawRotation: string;
    /** null: not estimated. */
    readonly yawDegrees: number | null;
    /** `[left, none, right]`. */
    readonly egoTranslationProbs: readonly number[];
    readonly objectTranslationProbs: readonly number[];
    readonly yawRotationProbs: readonly number[];
    readonly consistency: number | null;
    readonly inconsistent: boolean;
  };
  readonly inferenceMs: number;
}

/** report.json. */
export interface EvalReport {
  readonly schema: typeof REPORT_SCHEMA;
  readonly createdAt: string;
  readonly tool: { readonly name: 'actial-ros'; readonly version: string };
  readonly bag: {
    readonly path: string;
    readonly storage: BagStorage;
    /** Whether it is the bundled sample. */
    readonly sample: boolean;
    readonly messagesReplayed: number;
    /** Whether --limit stopped the replay early. */
    readonly limited: boolean;
    /** Why the bag ended early (a truncated file); null when it did not. */
    readonly truncated: string | null;
    /** The signal that stopped the replay early (`SIGINT`, `SIGTERM`); null when none did. */
    readonly interrupted: string | null;
    /** Stamps with nanosec >= 1e9 carried into sec while reading. */
    readonly normalizedStamps: number;
  };
  readonly config: {
    readonly path: string;
    /** sha256 of the validated parameters (defaults filled, keys sorted). */
    readonly digest: string;
    readonly cameras: readonly string[];
    readonly pairing: string;
    readonly pairs: readonly (readonly [string, string])[];
  };
  readonly labels: {
    readonly preset: string;
    readonly options: Required<LabelOptions>;
    /** --fixed-frame; null: the root of each source frame's tf tree. */
    readonly fixedFrame: string | null;
  };
  readonly model: {
    readonly name: string;
    readonly path: string;
    readonly source: ModelSource;
    readonly note: string | null;
    /** Graph files and dtypes, e.g. `onnx/decoder_model_merged_fp16.onnx (fp16), ...`. */
    readonly files: string;
  };
  readonly device: {
    readonly requested: string;
    readonly executionProvider: string;
    readonly fallbackReason: string | null;
  };
  readonly counts: {
    /** Pairs the node estimated (scored + skipped). */
    readonly estimated: number;
    readonly evaluated: number;
    readonly skipped: number;
    readonly skippedByReason: Readonly<Record<SkipReason, number>>;
    /** Pairs formed but not estimated: inference failures, timeouts, drops. */
    readonly notEstimated: { readonly failed: number; readonly timedOut: number; readonly dropped: number };
    readonly images: Readonly<
      Record<string, { readonly received: number; readonly rejected: Readonly<Record<string, number>> }>
    >;
    readonly answers: number;
    readonly tf: {
      readonly frames: number;
      readonly samples: number;
      readonly rejected: number;
      readonly missingFrames: readonly string[];
    };
  };
  readonly accuracy: Readonly<Record<QuestionType, Accuracy>> & { readonly mean: number | null };
  readonly confusion: Readonly<Record<QuestionType, ConfusionMatrix>>;
  readonly yaw: YawStatistics;
  readonly consistency: ConsistencyStatistics;
  readonly latency: {
    readonly inferenceMs: Distribution | null;
    /** Scored pairs per second of replay wall time. */
    readonly pairsPerSecond: number | null;
    readonly tfSeconds: number;
    readonly replaySeconds: number;
  };
  readonly accuracyOverTime: readonly {
    readonly stamp: string;
    readonly egoTranslation: number;
    readonly objectTranslation: number;
    readonly yawRotation: number;
  }[];
  /** Skipped pairs with the reason (at most {@link MAX_SKIPS_LISTED}). */
  readonly skipped: readonly {
    readonly cameras: readonly [string, string];
    readonly stamps: readonly [string, string];
    readonly reason: SkipReason;
    readonly message: string;
  }[];
  readonly pairs: readonly ReportPair[];
}

export const MAX_SKIPS_LISTED = 1000;

/** What the report says besides the evaluation's results. */
export interface ReportContext {
  readonly version: string;
  readonly bagPath: string;
  readonly storage: BagStorage;
  readonly sample: boolean;
  readonly configPath: string;
  readonly config: NodeConfig;
  readonly labelsPreset: string;
  readonly labelOptions: Required<LabelOptions>;
  readonly fixedFrame: string | null;
  readonly model: {
    readonly name: string;
    readonly dir: string;
    readonly source: ModelSource;
    readonly note: string | null;
  };
  readonly createdAt?: Date;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** `sha256:<hex>` of the validated parameters with sorted keys: equal digests, equal settings. */
export function configDigest(config: NodeConfig): string {
  return `sha256:${createHash('sha256')
    .update(JSON.stringify(sortKeys(config)))
    .digest('hex')}`;
}

/** report.json for an evaluation. */
export function buildReport(result: EvalResult, context: ReportContext): EvalReport {
  const { pairs, stats } = result;
  const skippedByReason = Object.fromEntries(SKIP_REASONS.map((r) => [r, 0])) as Record<SkipReason, number>;
  for (const skip of result.skipped) skippedByReason[skip.reason] += 1;
  const accuracy = Object.fromEntries(QUESTION_TYPES.map((q) => [q, accuracyOf(pairs, q)])) as Record<
    QuestionType,
    Accuracy
  >;
  const scored = QUESTION_TYPES.map((q) => accuracy[q].accuracy);
  const images: Record<string, { received: number; rejected: Record<string, number> }> = {};
  for (const [name, camera] of Object.entries(stats.cameras)) {
    images[name] = { received: camera.received, rejected: { ...camera.rejected } as Record<string, number> };
  }
  const config = context.config;
  return {
    schema: REPORT_SCHEMA,
    createdAt: (context.createdAt ?? new Date()).toISOString(),
    tool: { name: 'actial-ros', version: context.version },
    bag: {
      path: context.bagPath,
      storage: context.storage,
      sample: context.sample,
      messagesReplayed: result.messages,
      limited: result.limited,
      truncated: result.truncated,
      interrupted: result.interrupted,
      normalizedStamps: result.normalizedStamps,
    },
    config: {
      path: context.configPath,
      digest: configDigest(config),
      cameras: [...config.cameras],
      pairing: config.pairing.policy,
      pairs: stats.pairs.map((p) => [p.source, p.target] as const),
    },
    labels: { preset: context.labelsPreset, options: context.labelOptions, fixedFrame: context.fixedFrame },
    model: {
      name: context.model.name,
      path: context.model.dir,
      source: context.model.source,
      note: context.model.note,
      files: result.modelFiles,
    },
    device: {
      requested: config.model.device,
      executionProvider: result.executionProvider,
      fallbackReason: result.fallbackReason,
    },
    counts: {
      estimated: pairs.length + result.skipped.length,
      evaluated: pairs.length,
      skipped: result.skipped.length,
      skippedByReason,
      notEstimated: {
        failed: stats.inference.failed.viewpoint,
        timedOut: stats.inference.timedOut.viewpoint,
        dropped: stats.pairs.reduce((a, p) => a + p.dropped, 0),
      },
      images,
      answers: Object.values(stats.questions).reduce((a, q) => a + q.published, 0),
      tf: { ...result.tf, missingFrames: [...result.tf.missingFrames] },
    },
    accuracy: {
      ...accuracy,
      mean: scored.some((a) => a === null)
        ? null
        : scored.reduce((a: number, b) => a + (b as number), 0) / scored.length,
    },
    confusion: Object.fromEntries(QUESTION_TYPES.map((q) => [q, confusionOf(pairs, q)])) as Record<
      QuestionType,
      ConfusionMatrix
    >,
    yaw: yawStatistics(pairs),
    consistency: consistencyStatistics(pairs),
    latency: {
      inferenceMs: distribution(pairs.map((p) => p.inferenceMs)),
      pairsPerSecond: pairs.length === 0 ? null : pairs.length / (result.replayMs / 1000),
      tfSeconds: result.tfMs / 1000,
      replaySeconds: result.replayMs / 1000,
    },
    accuracyOverTime: accuracyOverTime(pairs).map((point) => ({
      stamp: point.stampNs.toString(),
      ...point.cumulative,
    })),
    skipped: result.skipped.slice(0, MAX_SKIPS_LISTED).map((s) => ({
      cameras: s.cameras,
      stamps: [s.stamps[0].toString(), s.stamps[1].toString()] as const,
      reason: s.reason,
      message: s.message,
    })),
    pairs: pairs.map((p): ReportPair => ({
      cameras: p.cameras,
      stamps: [p.stamps[0].toString(), p.stamps[1].toString()],
      frames: p.frames,
      truth: { ...p.truth },
      prediction: {
        egoTranslation: p.prediction.egoTranslation,
        objectTranslation: p.prediction.objectTranslation,
        yawRotation: p.prediction.yawRotation,
        yawDegrees: p.prediction.yawDegrees,
        egoTranslationProbs: p.prediction.egoTranslationProbs,
        objectTranslationProbs: p.prediction.objectTranslationProbs,
        yawRotationProbs: p.prediction.yawRotationProbs,
        consistency: p.prediction.consistency,
        inconsistent: p.prediction.inconsistent,
      },
      inferenceMs: p.inferenceMs,
    })),
  };
}

const pct = (value: number | null): string => (value === null ? 'n/a' : `${(value * 100).toFixed(1)}%`);

/** The summary `actial eval` prints: a few lines a person reads at a glance. */
export function summaryLines(report: EvalReport): string[] {
  const { counts, accuracy, yaw, consistency, latency } = report;
  const skips = Object.entries(counts.skippedByReason)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${reason} ${n}`);
  const lines = [
    `bag ${report.bag.path}${report.bag.sample ? ' (bundled sample)' : ''}: ${report.bag.messagesReplayed} messages replayed${report.bag.limited ? ' (stopped by --limit)' : ''}`,
    `model ${report.model.name} (${report.model.source}) on ${report.device.executionProvider}`,
  ];
  if (report.model.note) lines.push(`note: ${report.model.note}`);
  if (report.bag.truncated) lines.push(`warning: ${report.bag.truncated}`);
  if (report.bag.interrupted) {
    lines.push(
      `warning: interrupted by ${report.bag.interrupted}: the report covers the ${report.bag.messagesReplayed} messages replayed before it`,
    );
  }
  lines.push(
    `pairs: ${counts.evaluated} scored, ${counts.skipped} skipped${skips.length ? ` (${skips.join(', ')})` : ''}, not estimated: failed ${counts.notEstimated.failed}, timed out ${counts.notEstimated.timedOut}, dropped ${counts.notEstimated.dropped}`,
  );
  if (counts.tf.missingFrames.length > 0) {
    lines.push(`warning: optical frames not in tf: ${counts.tf.missingFrames.join(', ')}`);
  }
  lines.push(
    `accuracy: camera translation ${pct(accuracy.egoTranslation.accuracy)}, object translation ${pct(accuracy.objectTranslation.accuracy)}, rotation ${pct(accuracy.yawRotation.accuracy)} (mean ${pct(accuracy.mean)})`,
  );
  lines.push(
    yaw.absErrorDeg
      ? `yaw error: median ${yaw.absErrorDeg.p50.toFixed(1)} deg, mean ${yaw.absErrorDeg.mean.toFixed(1)} deg, p90 ${yaw.absErrorDeg.p90.toFixed(1)} deg over ${yaw.estimated} pairs`
      : `yaw error: ${yaw.note ?? 'n/a'}`,
  );
  if (consistency.distribution) {
    lines.push(
      `consistency: mean ${consistency.distribution.mean.toFixed(2)}, ${consistency.inconsistent} inconsistent; accuracy consistent ${pct(consistency.accuracyConsistent)} vs inconsistent ${pct(consistency.accuracyInconsistent)}`,
    );
  }
  if (latency.inferenceMs) {
    lines.push(
      `latency per pair: p50 ${latency.inferenceMs.p50.toFixed(0)} ms, p90 ${latency.inferenceMs.p90.toFixed(0)} ms; ${latency.pairsPerSecond?.toFixed(2) ?? 'n/a'} pairs/s`,
    );
  }
  return lines;
}
