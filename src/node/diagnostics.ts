import { formatNs, nsToTime } from '../pairing/index.js';
import {
  DIAGNOSTIC_LEVEL,
  type DiagnosticArrayMessage,
  type DiagnosticLevel,
  type DiagnosticStatusMessage,
  type KeyValueMessage,
} from './messages.js';
import type { Percentiles } from './percentiles.js';
import type { CameraStats, JobKind, NodeStats } from './stats.js';

/** What one diagnostics report is built from. */
export interface DiagnosticsInput {
  readonly nodeName: string;
  /** Clock time of the report, ns (also its header stamp). */
  readonly now: bigint;
  readonly stats: NodeStats;
  /** The counters at the previous report: levels judge what happened since then. */
  readonly previous: NodeStats | undefined;
  readonly previousAt: bigint | undefined;
  /** A camera silent for longer is STALE. */
  readonly staleAfterNs: bigint;
}

const KINDS: readonly JobKind[] = ['viewpoint', 'question', 'query'];

const seconds = (ns: bigint): string => (Number(ns) / 1e9).toFixed(3);
const fixed = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : 'nan');

function sum(record: Readonly<Record<string, number | undefined>>): number {
  return Object.values(record).reduce<number>((a, b) => a + (b ?? 0), 0);
}

function percentileValues(prefix: string, p: Percentiles | null, digits = 1): KeyValueMessage[] {
  if (!p) return [{ key: prefix, value: 'none yet' }];
  return [
    { key: `${prefix}.p50`, value: fixed(p.p50, digits) },
    { key: `${prefix}.p90`, value: fixed(p.p90, digits) },
    { key: `${prefix}.p99`, value: fixed(p.p99, digits) },
    { key: `${prefix}.max`, value: fixed(p.max, digits) },
    { key: `${prefix}.count`, value: String(p.count) },
  ];
}

function describeReasons(
  now: Readonly<Record<string, number | undefined>>,
  before?: Readonly<Record<string, number | undefined>>,
): string {
  return Object.entries(now)
    .map(([reason, count]) => [reason, (count ?? 0) - (before?.[reason] ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${reason}: ${n}`)
    .join(', ');
}

interface Judged {
  readonly level: DiagnosticLevel;
  readonly message: string;
}

function judgeCamera(input: DiagnosticsInput, camera: CameraStats, before: CameraStats | undefined): Judged {
  const { now, staleAfterNs } = input;
  if (camera.lastReceivedAt === null) return { level: DIAGNOSTIC_LEVEL.STALE, message: 'no images yet' };
  const silent = now - camera.lastReceivedAt;
  if (silent > staleAfterNs) {
    return { level: DIAGNOSTIC_LEVEL.STALE, message: `no images for ${seconds(silent)} s` };
  }
  const received = camera.received - (before?.received ?? 0);
  const rejected = camera.rejectedTotal - (before?.rejectedTotal ?? 0);
  if (rejected > 0) {
    const reasons = describeReasons(camera.rejected, before?.rejected);
    if (received === 0) {
      return {
        level: DIAGNOSTIC_LEVEL.ERROR,
        message: `all ${rejected} images since the last report refused (${reasons})`,
      };
    }
    return {
      level: DIAGNOSTIC_LEVEL.WARN,
      message: `${rejected} images refused since the last report (${reasons})`,
    };
  }
  if (camera.timeJumps > (before?.timeJumps ?? 0)) {
    return { level: DIAGNOSTIC_LEVEL.WARN, message: 'stamps jumped backwards; pairing was reset' };
  }
  return { level: DIAGNOSTIC_LEVEL.OK, message: 'receiving images' };
}

/**
 * Builds the /diagnostics message: statuses `<node>: camera <name>`, `<node>: pair <source>:<target>`,
 * `<node>: question <name>`, `<node>: inference` and `<node>: input`, with diagnostic_updater levels.
 */
export function buildDiagnostics(input: DiagnosticsInput): DiagnosticArrayMessage {
  const { nodeName, now, stats, previous, previousAt } = input;
  const windowNs = previousAt !== undefined && now > previousAt ? now - previousAt : undefined;
  const status: DiagnosticStatusMessage[] = [];
  const cameraLevels = new Map<string, DiagnosticLevel>();

  for (const [name, camera] of Object.entries(stats.cameras)) {
    const before = previous?.cameras[name];
    const judged = judgeCamera(input, camera, before);
    cameraLevels.set(name, judged.level);
    const received = camera.received - (before?.received ?? 0);
    const rate = windowNs === undefined ? 'unknown' : fixed(received / (Number(windowNs) / 1e9), 2);
    const values: KeyValueMessage[] = [
      { key: 'topic', value: camera.topic },
      { key: 'transport', value: camera.transport },
      { key: 'frame_id', value: camera.frameId },
      { key: 'rate_hz', value: rate },
      { key: 'received', value: String(camera.received) },
      { key: 'rejected', value: String(camera.rejectedTotal) },
      { key: 'rejected_at_decode', value: String(camera.rejectedAtDecode) },
      ...Object.entries(camera.rejected).map(([reason, n]) => ({
        key: `rejected.${reason}`,
        value: String(n),
      })),
      { key: 'last_stamp', value: camera.lastStamp === null ? 'none' : formatNs(camera.lastStamp) },
      { key: 'stamp_age_s', value: camera.lastStamp === null ? 'none' : seconds(now - camera.lastStamp) },
      {
        key: 'silent_s',
        value: camera.lastReceivedAt === null ? 'none' : seconds(now - camera.lastReceivedAt),
      },
      { key: 'time_jumps', value: String(camera.timeJumps) },
      { key: 'history_frames', value: String(camera.history) },
      { key: 'camera_infos', value: String(camera.cameraInfos) },
    ];
    const message =
      judged.level === DIAGNOSTIC_LEVEL.OK && rate !== 'unknown' ? `${rate} Hz` : judged.message;
    status.push({
      level: judged.level,
      name: `${nodeName}: camera ${name}`,
      message,
      hardware_id: camera.topic,
      values,
    });
  }

  const staleOf = (cameras: readonly string[]): string[] =>
    cameras.filter((c) => cameraLevels.get(c) === DIAGNOSTIC_LEVEL.STALE);

  for (const pair of stats.pairs) {
    const key = `${pair.source}:${pair.target}`;
    const before = previous?.pairs.find((p) => p.source === pair.source && p.target === pair.target);
    const stale = staleOf([pair.source, pair.target]);
    const failed = pair.failed - (before?.failed ?? 0);
    const timedOut = pair.timedOut - (before?.timedOut ?? 0);
    let level: DiagnosticLevel = DIAGNOSTIC_LEVEL.OK;
    let message = `${pair.published} estimates published`;
    if (stale.length > 0) {
      level = DIAGNOSTIC_LEVEL.STALE;
      message = `stopped: camera ${stale.join(', ')} silent`;
    } else if (failed + timedOut > 0) {
      level = DIAGNOSTIC_LEVEL.WARN;
      message = unsuccessfulSince('estimates', failed, timedOut);
    } else if (pair.tfRefused !== null) {
      level = DIAGNOSTIC_LEVEL.WARN;
      message = `/tf output refused: frame '${pair.tfRefused}' exists`;
    }
    status.push({
      level,
      name: `${nodeName}: pair ${key}`,
      message,
      hardware_id: '',
      values: [
        { key: 'sets', value: String(pair.sync.emitted) },
        { key: 'sync_dropped', value: String(sum(pair.sync.dropped)) },
        ...Object.entries(pair.sync.dropped)
          .filter(([, n]) => n > 0)
          .map(([reason, n]) => ({ key: `sync_dropped.${reason}`, value: String(n) })),
        { key: 'sync_buffered', value: String(pair.sync.buffered) },
        { key: 'sync_resets', value: String(pair.sync.resets) },
        { key: 'scheduled', value: String(pair.scheduled) },
        { key: 'published', value: String(pair.published) },
        { key: 'failed', value: String(pair.failed) },
        { key: 'timed_out', value: String(pair.timedOut) },
        { key: 'queue_dropped', value: String(pair.dropped) },
        { key: 'last_set_stamp', value: pair.lastSetStamp === null ? 'none' : formatNs(pair.lastSetStamp) },
        { key: 'tf_refused_frame', value: pair.tfRefused ?? '' },
      ],
    });
  }

  for (const [name, question] of Object.entries(stats.questions)) {
    const before = previous?.questions[name];
    const failed = question.failed - (before?.failed ?? 0);
    const timedOut = question.timedOut - (before?.timedOut ?? 0);
    const stale = staleOf(question.cameras);
    let level: DiagnosticLevel = DIAGNOSTIC_LEVEL.OK;
    let message = `${question.published} answers published`;
    if (stale.length > 0) {
      level = DIAGNOSTIC_LEVEL.STALE;
      message = `stopped: camera ${stale.join(', ')} silent`;
    } else if (failed + timedOut > 0) {
      level = DIAGNOSTIC_LEVEL.WARN;
      message = unsuccessfulSince('answers', failed, timedOut);
    }
    status.push({
      level,
      name: `${nodeName}: question ${name}`,
      message,
      hardware_id: '',
      values: [
        { key: 'cameras', value: question.cameras.join(',') },
        { key: 'scheduled', value: String(question.scheduled) },
        { key: 'published', value: String(question.published) },
        { key: 'failed', value: String(question.failed) },
        { key: 'timed_out', value: String(question.timedOut) },
        { key: 'queue_dropped', value: String(question.dropped) },
      ],
    });
  }

  status.push(inferenceStatus(input));
  status.push(inputStatus(input));
  return { header: { stamp: nsToTime(now < 0n ? 0n : now), frame_id: '' }, status };
}

/** E.g. `2 estimates failed, 1 timed out since the last report`. */
function unsuccessfulSince(what: string, failed: number, timedOut: number): string {
  const parts = failed > 0 ? [`${failed} ${what} failed`] : [];
  if (timedOut > 0) parts.push(failed > 0 ? `${timedOut} timed out` : `${timedOut} ${what} timed out`);
  return `${parts.join(', ')} since the last report`;
}

function inferenceStatus(input: DiagnosticsInput): DiagnosticStatusMessage {
  const { nodeName, stats, previous } = input;
  const inf = stats.inference;
  const before = previous?.inference;
  const delta = (now: Readonly<Record<JobKind, number>>, then?: Readonly<Record<JobKind, number>>): number =>
    KINDS.reduce((n, k) => n + now[k] - (then?.[k] ?? 0), 0);
  const failed = delta(inf.failed, before?.failed);
  const completed = delta(inf.completed, before?.completed);
  const timedOut = delta(inf.timedOut, before?.timedOut);
  const dropped = inf.dropped - (before?.dropped ?? 0);
  const rejected = inf.rejectedQueries - (before?.rejectedQueries ?? 0);
  const restarts = (inf.backend?.restarts ?? 0) - (before?.backend?.restarts ?? 0);
  const prepareRestarts =
    (inf.backend?.prepareThreadRestarts ?? 0) - (before?.backend?.prepareThreadRestarts ?? 0);
  const problems: string[] = [];
  let level: DiagnosticLevel = DIAGNOSTIC_LEVEL.OK;
  const raise = (to: DiagnosticLevel, problem: string): void => {
    if (to > level) level = to;
    problems.push(problem);
  };
  if (inf.backend?.state === 'failed') raise(DIAGNOSTIC_LEVEL.ERROR, 'the model host gave up');
  if (failed > 0 && completed === 0)
    raise(DIAGNOSTIC_LEVEL.ERROR, `every job failed since the last report (${failed})`);
  else if (failed > 0) raise(DIAGNOSTIC_LEVEL.WARN, `${failed} jobs failed`);
  if (timedOut > 0) raise(DIAGNOSTIC_LEVEL.WARN, `${timedOut} jobs timed out`);
  if (dropped > 0)
    raise(DIAGNOSTIC_LEVEL.WARN, `${dropped} queued jobs dropped (inference slower than the rates)`);
  if (rejected > 0) raise(DIAGNOSTIC_LEVEL.WARN, `${rejected} queries refused (too many pending)`);
  if (restarts > 0) raise(DIAGNOSTIC_LEVEL.WARN, `model host restarted ${restarts} times`);
  if (prepareRestarts > 0) {
    raise(DIAGNOSTIC_LEVEL.WARN, `image preparation threads restarted ${prepareRestarts} times`);
  }
  if (inf.fallbackReason)
    raise(DIAGNOSTIC_LEVEL.WARN, `running on ${inf.executionProvider}: ${inf.fallbackReason}`);
  const idle = stats.state !== 'active' ? stats.state : inf.running ? `running ${inf.running}` : 'idle';
  const values: KeyValueMessage[] = [
    { key: 'state', value: stats.state },
    { key: 'model', value: inf.model },
    { key: 'model_files', value: inf.modelFiles },
    { key: 'execution_provider', value: inf.executionProvider },
    { key: 'fallback_reason', value: inf.fallbackReason ?? '' },
    { key: 'backend_state', value: inf.backend?.state ?? '' },
    { key: 'backend_restarts', value: String(inf.backend?.restarts ?? 0) },
    { key: 'prepare_threads', value: String(inf.backend?.prepareThreads ?? 0) },
    { key: 'prepare_thread_restarts', value: String(inf.backend?.prepareThreadRestarts ?? 0) },
    { key: 'running', value: inf.running ?? '' },
    { key: 'queue_depth', value: String(inf.queued) },
    { key: 'queue_capacity', value: String(inf.queueCapacity) },
    { key: 'queue_policy', value: inf.queuePolicy },
    { key: 'queue_oldest_age_s', value: fixed(inf.oldestQueuedS, 3) },
    { key: 'queue_dropped', value: String(inf.dropped) },
    { key: 'queries_pending', value: String(inf.pendingQueries) },
    { key: 'queries_max_pending', value: String(inf.maxPendingQueries) },
    { key: 'queries_rejected', value: String(inf.rejectedQueries) },
    { key: 'queries_invalid', value: String(inf.invalidQueries) },
  ];
  for (const kind of KINDS) {
    values.push(
      { key: `${kind}.scheduled`, value: String(inf.scheduled[kind]) },
      { key: `${kind}.completed`, value: String(inf.completed[kind]) },
      { key: `${kind}.failed`, value: String(inf.failed[kind]) },
      { key: `${kind}.timed_out`, value: String(inf.timedOut[kind]) },
      { key: `${kind}.cancelled`, value: String(inf.cancelled[kind]) },
      ...percentileValues(`${kind}.latency_ms`, inf.latencyMs[kind]),
    );
  }
  values.push(
    ...percentileValues('overhead_ms', inf.overheadMs),
    ...percentileValues('prepare_ms', inf.prepareMs),
    ...percentileValues('frame_age_s', inf.frameAgeS, 3),
    { key: 'last_error', value: inf.lastError ?? '' },
  );
  return {
    level,
    name: `${nodeName}: inference`,
    message: problems.length > 0 ? problems.join('; ') : idle,
    hardware_id: inf.executionProvider,
    values,
  };
}

function inputStatus(input: DiagnosticsInput): DiagnosticStatusMessage {
  const { nodeName, stats, previous } = input;
  const now = stats.input;
  const before = previous?.input;
  const problems: string[] = [];
  const grew = (
    key: 'unknownTopic' | 'tfRejected' | 'cameraInfoRejected' | 'outputErrors',
    what: string,
  ): void => {
    const n = now[key] - (before?.[key] ?? 0);
    if (n > 0) problems.push(`${n} ${what}`);
  };
  grew('unknownTopic', 'messages on unknown topics');
  grew('tfRejected', 'bad tf messages');
  grew('cameraInfoRejected', 'bad camera_info messages');
  grew('outputErrors', 'failed publications');
  return {
    level: problems.length > 0 ? DIAGNOSTIC_LEVEL.WARN : DIAGNOSTIC_LEVEL.OK,
    name: `${nodeName}: input`,
    message: problems.length > 0 ? `${problems.join(', ')} since the last report` : 'ok',
    hardware_id: '',
    values: [
      { key: 'unknown_topic_messages', value: String(now.unknownTopic) },
      { key: 'unknown_topics', value: now.unknownTopics.join(',') },
      { key: 'tf_messages', value: String(now.tfMessages) },
      { key: 'tf_rejected', value: String(now.tfRejected) },
      { key: 'camera_info_rejected', value: String(now.cameraInfoRejected) },
      { key: 'output_errors', value: String(now.outputErrors) },
    ],
  };
}
