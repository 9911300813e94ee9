import { stampToNs, valueText as shown } from './input.js';
import type { SpatialQueryRequest } from './messages.js';

/** A question put to the model: from a query or a standing question. */
export interface QuestionSpec {
  readonly question: string;
  /** Cameras in image order. */
  readonly cameras: readonly string[];
  /** Empty: free-form generation. */
  readonly choices: readonly string[];
  readonly maxNewTokens: number;
}

/** A checked SpatialQuery request. */
export interface CheckedQuery {
  readonly spec: QuestionSpec;
  /** Requested frame stamp, ns; 0: the latest frames. */
  readonly stamp: bigint;
  readonly timeoutS: number;
}

/** What a request is checked against. */
export interface QueryDefaults {
  /** Known cameras. */
  readonly cameras: readonly string[];
  /** `model.max_new_tokens`, for a request with 0. */
  readonly maxNewTokens: number;
  /** `model.timeout_s`, for a request with 0. */
  readonly timeoutS: number;
}

/**
 * Checks a SpatialQuery request (or Ask goal) and fills its defaults; returns the reason it
 * cannot be answered instead of throwing.
 */
export function checkQueryRequest(
  request: SpatialQueryRequest,
  defaults: QueryDefaults,
): CheckedQuery | { readonly error: string } {
  if (typeof request !== 'object' || request === null) return { error: 'the request is not an object' };
  const question = request.question;
  if (typeof question !== 'string' || question.trim() === '') return { error: 'the question is empty' };
  const cameras = request.cameras;
  if (!Array.isArray(cameras) || cameras.length === 0) return { error: 'no cameras given' };
  for (const camera of cameras) {
    if (typeof camera !== 'string' || !defaults.cameras.includes(camera)) {
      return { error: `unknown camera '${shown(camera)}' (cameras: ${defaults.cameras.join(', ')})` };
    }
  }
  const choices = request.choices ?? [];
  if (!Array.isArray(choices)) return { error: 'choices must be a list of strings' };
  const seen = new Set<string>();
  for (const [i, choice] of choices.entries()) {
    if (typeof choice !== 'string' || choice === '') return { error: `choice ${i} is empty` };
    if (seen.has(choice)) return { error: `choice '${shown(choice)}' is given twice` };
    seen.add(choice);
  }
  let stamp = 0n;
  if (request.stamp) {
    try {
      stamp = stampToNs({ sec: request.stamp.sec, nanosec: request.stamp.nanosec }, 'query');
    } catch (error) {
      return { error: (error as Error).message.replace('header.stamp', 'stamp') };
    }
  }
  const maxNewTokens = request.max_new_tokens ?? 0;
  if (!Number.isSafeInteger(maxNewTokens) || maxNewTokens < 0) {
    return { error: `max_new_tokens must be a whole number >= 0, got ${shown(maxNewTokens)}` };
  }
  const timeout = request.timeout_s ?? 0;
  if (!Number.isFinite(timeout) || timeout < 0) {
    return { error: `timeout_s must be a number of seconds >= 0, got ${shown(timeout)}` };
  }
  return {
    spec: {
      question,
      cameras: [...cameras],
      choices: [...choices],
      maxNewTokens: maxNewTokens || defaults.maxNewTokens,
    },
    stamp,
    timeoutS: timeout || defaults.timeoutS,
  };
}
