import type { SyncStats } from '../pairing/index.js';
import type { BackendStats } from './backend.js';
import type { InputRejectReason } from './input.js';
import type { Percentiles } from './percentiles.js';

/** `inactive`: inputs are counted and kept, nothing is scheduled; `active`: serving; `closed`: released. */
export type NodeState = 'inactive' | 'active' | 'closed';

export type JobKind = 'viewpoint' | 'question' | 'query';

/** Counters of one camera. */
export interface CameraStats {
  readonly topic: string;
  readonly transport: 'raw' | 'compressed';
  /** Optical frame in use ('' before the first image when not configured). */
  readonly frameId: string;
  /** Images accepted. */
  readonly received: number;
  /** Images refused, on arrival or when decoded, by reason. */
  readonly rejected: Readonly<Partial<Record<InputRejectReason, number>>>;
  readonly rejectedTotal: number;
  /**
   * Of the images `received`, those refused later, when decoded for inference (also counted in
   * `rejected`): every image fed is `received + rejectedTotal - rejectedAtDecode`.
   */
  readonly rejectedAtDecode: number;
  readonly timeJumps: number;
  readonly cameraInfos: number;
  /** Stamp of the newest accepted image, ns; null before the first. */
  readonly lastStamp: bigint | null;
  /** Clock time of the last message (accepted or not), ns; null before the first. */
  readonly lastReceivedAt: bigint | null;
  /** Frames held for queries. */
  readonly history: number;
}

/** Counters of one camera pair. */
export interface PairStats {
  readonly source: string;
  readonly target: string;
  readonly sync: SyncStats;
  /** Estimates queued, published, failed (inference or image errors), timed out, dropped by the full queue. */
  readonly scheduled: number;
  readonly published: number;
  readonly failed: number;
  readonly timedOut: number;
  readonly dropped: number;
  /** Stamp of the last synchronised set, ns; null before the first. */
  readonly lastSetStamp: bigint | null;
  /** /tf child frame refused because another publisher uses the name; null when not refused. */
  readonly tfRefused: string | null;
}

/** Counters of one standing question. */
export interface QuestionStats {
  readonly cameras: readonly string[];
  readonly scheduled: number;
  readonly published: number;
  readonly failed: number;
  readonly timedOut: number;
  readonly dropped: number;
}

/** Counters of the inference lane. */
export interface InferenceStats {
  readonly model: string;
  readonly executionProvider: string;
  readonly fallbackReason: string | null;
  /** The model's files and their dtypes; empty when the backend does not say. */
  readonly modelFiles: string;
  readonly backend: BackendStats | null;
  /** Kind of the job running, or null. */
  readonly running: JobKind | null;
  /** Viewpoint and standing-question jobs waiting, and the queue limits. */
  readonly queued: number;
  readonly queueCapacity: number;
  readonly queuePolicy: 'keep_latest' | 'drop_newest';
  /** Clock time the oldest waiting job has waited, seconds; 0 when none waits. */
  readonly oldestQueuedS: number;
  /** Queries accepted and not answered (waiting or running), and the limit. */
  readonly pendingQueries: number;
  readonly maxPendingQueries: number;
  /**
   * Jobs queued, by kind (queries: those accepted). Each ends completed, failed, timed out,
   * cancelled or (periodic jobs) dropped: `scheduled` = the sum of those plus what waits or runs.
   */
  readonly scheduled: Readonly<Record<JobKind, number>>;
  readonly completed: Readonly<Record<JobKind, number>>;
  readonly failed: Readonly<Record<JobKind, number>>;
  readonly timedOut: Readonly<Record<JobKind, number>>;
  readonly cancelled: Readonly<Record<JobKind, number>>;
  /** Periodic jobs dropped by the full queue, a time jump or deactivation. */
  readonly dropped: number;
  /** Queries refused because too many were pending, or the node was not active. */
  readonly rejectedQueries: number;
  /** Queries refused for their content (unknown camera, no frames...). */
  readonly invalidQueries: number;
  /** Wall time per job from start to result, ms, by kind. */
  readonly latencyMs: Readonly<Record<JobKind, Percentiles | null>>;
  /** Wall time per job not spent in the backend (decode, preprocess, prompts, bookkeeping), ms. */
  readonly overheadMs: Percentiles | null;
  /** Decode and preprocess time per job, ms. */
  readonly prepareMs: Percentiles | null;
  /** Clock time from the newest frame's stamp to the job's start, seconds. */
  readonly frameAgeS: Percentiles | null;
  readonly lastError: string | null;
}

/** Input counters that belong to no camera. */
export interface InputStats {
  readonly unknownTopic: number;
  /** Some of the unknown topics seen (at most 16). */
  readonly unknownTopics: readonly string[];
  readonly tfMessages: number;
  readonly tfRejected: number;
  readonly cameraInfoRejected: number;
  /** Throws of `onOutput`. */
  readonly outputErrors: number;
}

/** A snapshot of everything the core counts (the diagnostics are built from it). */
export interface NodeStats {
  readonly state: NodeState;
  readonly cameras: Readonly<Record<string, CameraStats>>;
  readonly pairs: readonly PairStats[];
  readonly questions: Readonly<Record<string, QuestionStats>>;
  readonly inference: InferenceStats;
  readonly input: InputStats;
}
