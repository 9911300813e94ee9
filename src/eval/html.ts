import type { ExamplePair } from './evaluate.js';
import { QUESTION_TYPES, type ConfusionMatrix, type QuestionType } from './metrics.js';
import type { EvalReport } from './report.js';

/**
 * report.html: one self-contained page (inline CSS and SVG, thumbnails as data: URIs, no script,
 * no network) with the summary, the confusion matrices, the yaw error histogram, accuracy over
 * time, latency per pair and a few example pairs.
 */

const QUESTION_TITLES: Readonly<Record<QuestionType, string>> = {
  egoTranslation: 'Camera translation (camera perspective)',
  objectTranslation: 'Translation (object perspective)',
  yawRotation: 'Rotation (yaw)',
};
const SERIES_COLOURS: Readonly<Record<QuestionType, string>> = {
  egoTranslation: '#1f77b4',
  objectTranslation: '#ff7f0e',
  yawRotation: '#2ca02c',
};
/** Object-perspective answers mirror the camera's, so their curves often coincide: dash one. */
const SERIES_DASH: Readonly<Record<QuestionType, string>> = {
  egoTranslation: '',
  objectTranslation: ' stroke-dasharray="6 4"',
  yawRotation: '',
};

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const pct = (value: number | null | undefined): string =>
  value === null || value === undefined ? 'n/a' : `${(value * 100).toFixed(1)}%`;
const num = (value: number | null | undefined, digits = 1): string =>
  value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits);

function row(label: string, value: string): string {
  return `<tr><th>${escape(label)}</th><td>${value}</td></tr>`;
}

function summaryTable(report: EvalReport): string {
  const { counts, accuracy, yaw, consistency, latency } = report;
  const skips = Object.entries(counts.skippedByReason)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${escape(reason)} ${n}`)
    .join(', ');
  const rows = [
    row('Pairs scored', String(counts.evaluated)),
    row('Pairs skipped (no ground truth)', `${counts.skipped}${skips ? ` (${skips})` : ''}`),
    row(
      'Pairs not estimated',
      `failed ${counts.notEstimated.failed}, timed out ${counts.notEstimated.timedOut}, dropped ${counts.notEstimated.dropped}`,
    ),
    ...QUESTION_TYPES.map((q) =>
      row(
        `Accuracy: ${QUESTION_TITLES[q]}`,
        `<b>${pct(accuracy[q].accuracy)}</b> (${accuracy[q].correct} / ${accuracy[q].total})`,
      ),
    ),
    row('Mean accuracy', `<b>${pct(accuracy.mean)}</b>`),
    row(
      'Yaw |error|',
      yaw.absErrorDeg
        ? `median ${num(yaw.absErrorDeg.p50)}&deg;, mean ${num(yaw.absErrorDeg.mean)}&deg;, p90 ${num(yaw.absErrorDeg.p90)}&deg; (${yaw.estimated} pairs)`
        : escape(yaw.note ?? 'n/a'),
    ),
    row(
      'Consistency',
      consistency.distribution
        ? `mean ${num(consistency.distribution.mean, 2)}; ${consistency.inconsistent} inconsistent (${pct(consistency.inconsistentRate)}); accuracy ${pct(consistency.accuracyConsistent)} when consistent, ${pct(consistency.accuracyInconsistent)} when not`
        : 'n/a',
    ),
    row(
      'Inference per pair',
      latency.inferenceMs
        ? `p50 ${num(latency.inferenceMs.p50, 0)} ms, p90 ${num(latency.inferenceMs.p90, 0)} ms, p99 ${num(latency.inferenceMs.p99, 0)} ms, max ${num(latency.inferenceMs.max, 0)} ms`
        : 'n/a',
    ),
    row(
      'Throughput',
      `${num(latency.pairsPerSecond, 2)} pairs/s (replay ${num(latency.replaySeconds, 1)} s, tf pass ${num(latency.tfSeconds, 1)} s)`,
    ),
    row(
      'Model',
      `${escape(report.model.name)} (${escape(report.model.source)}): ${escape(report.model.path)}`,
    ),
    row(
      'Device',
      `${escape(report.device.executionProvider)} (asked: ${escape(report.device.requested)})${report.device.fallbackReason ? `: ${escape(report.device.fallbackReason)}` : ''}`,
    ),
    row(
      'Bag',
      `${escape(report.bag.path)} (${escape(report.bag.storage)}${report.bag.sample ? ', bundled sample' : ''}), ${report.bag.messagesReplayed} messages${report.bag.limited ? ', stopped by --limit' : ''}${report.bag.normalizedStamps ? `, ${report.bag.normalizedStamps} non-normalised stamps carried` : ''}`,
    ),
    row(
      'Config',
      `${escape(report.config.path)}, ${escape(report.config.digest.slice(0, 19))}&hellip;; pairing ${escape(report.config.pairing)}, pairs ${escape(report.config.pairs.map((p) => p.join(' -> ')).join(', '))}`,
    ),
    row(
      'Labels',
      `preset ${escape(report.labels.preset)}: dead zone ${report.labels.options.deadZone} m or ${report.labels.options.relativeDeadZone * 100}% of the displacement, yaw ${report.labels.options.yawDeadZoneDegrees}&deg;; fixed frame ${escape(report.labels.fixedFrame ?? 'tf root')}`,
    ),
  ];
  return `<table class="summary">${rows.join('')}</table>`;
}

function confusionTable(question: QuestionType, confusion: ConfusionMatrix): string {
  const max = Math.max(1, ...confusion.matrix.flat());
  const header = `<tr><th>truth \\ predicted</th>${confusion.labels.map((l) => `<th>${l}</th>`).join('')}<th>total</th></tr>`;
  const body = confusion.matrix
    .map((cells, i) => {
      const total = cells.reduce((a, b) => a + b, 0);
      const tds = cells
        .map((n, j) => {
          const alpha = (n / max) * 0.85;
          const colour =
            i === j ? `rgba(44,160,44,${alpha.toFixed(3)})` : `rgba(214,39,40,${alpha.toFixed(3)})`;
          return `<td style="background:${colour}">${n}</td>`;
        })
        .join('');
      return `<tr><th>${confusion.labels[i]}</th>${tds}<td class="total">${total}</td></tr>`;
    })
    .join('');
  return `<figure class="confusion"><figcaption>${QUESTION_TITLES[question]}</figcaption><table>${header}${body}</table></figure>`;
}

interface Axis {
  readonly min: number;
  readonly max: number;
}

const WIDTH = 640;
const HEIGHT = 240;
const PAD = { left: 56, right: 28, top: 12, bottom: 34 };

function scale(value: number, axis: Axis, from: number, to: number): number {
  const span = axis.max - axis.min || 1;
  return from + ((value - axis.min) / span) * (to - from);
}

function frame(
  xLabel: string,
  yLabel: string,
  yTicks: readonly { value: number; label: string }[],
  y: Axis,
): string {
  const ticks = yTicks
    .map((t) => {
      const py = scale(t.value, y, HEIGHT - PAD.bottom, PAD.top).toFixed(1);
      return `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${py}" y2="${py}" stroke="#eee"/><text x="${PAD.left - 6}" y="${py}" font-size="11" fill="#555" text-anchor="end" dominant-baseline="middle">${escape(t.label)}</text>`;
    })
    .join('');
  return `${ticks}<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${HEIGHT - PAD.bottom}" y2="${HEIGHT - PAD.bottom}" stroke="#999"/><text x="${(PAD.left + WIDTH - PAD.right) / 2}" y="${HEIGHT - 6}" text-anchor="middle" font-size="12" fill="#333">${escape(xLabel)}</text><text x="12" y="${(PAD.top + HEIGHT - PAD.bottom) / 2}" text-anchor="middle" font-size="12" fill="#333" transform="rotate(-90 12 ${(PAD.top + HEIGHT - PAD.bottom) / 2})">${escape(yLabel)}</text>`;
}

function svg(content: string, title: string): string {
  return `<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" role="img" aria-label="${escape(title)}">${content}</svg>`;
}

function yawHistogram(report: EvalReport): string {
  const histogram = report.yaw.histogram;
  if (!histogram) return `<p class="note">${escape(report.yaw.note ?? 'No yaw estimates.')}</p>`;
  const maxCount = Math.max(1, ...histogram.counts);
  const y: Axis = { min: 0, max: maxCount };
  const x: Axis = {
    min: histogram.edges[0] as number,
    max: histogram.edges[histogram.edges.length - 1] as number,
  };
  const bars = histogram.counts
    .map((count, i) => {
      const x0 = scale(histogram.edges[i] as number, x, PAD.left, WIDTH - PAD.right);
      const x1 = scale(histogram.edges[i + 1] as number, x, PAD.left, WIDTH - PAD.right);
      const top = scale(count, y, HEIGHT - PAD.bottom, PAD.top);
      return `<rect x="${(x0 + 0.5).toFixed(1)}" y="${top.toFixed(1)}" width="${Math.max(0, x1 - x0 - 1).toFixed(1)}" height="${(HEIGHT - PAD.bottom - top).toFixed(1)}" fill="#6b8fd6"><title>${histogram.edges[i]}° to ${histogram.edges[i + 1]}°: ${count}</title></rect>`;
    })
    .join('');
  const xTicks = [-180, -90, 0, 90, 180]
    .map((v) => {
      const px = scale(v, x, PAD.left, WIDTH - PAD.right).toFixed(1);
      return `<text x="${px}" y="${HEIGHT - PAD.bottom + 14}" font-size="11" fill="#555" text-anchor="middle">${v}°</text>`;
    })
    .join('');
  const yTicks = [0, Math.ceil(maxCount / 2), maxCount].map((v) => ({ value: v, label: String(v) }));
  return svg(
    `${frame('signed yaw error (predicted - truth), degrees', 'pairs', yTicks, y)}${bars}${xTicks}`,
    'yaw error histogram',
  );
}

function accuracyPlot(report: EvalReport): string {
  const points = report.accuracyOverTime;
  if (points.length === 0) return '<p class="note">No scored pairs.</p>';
  const t0 = BigInt(points[0]?.stamp ?? '0');
  const times = points.map((p) => Number(BigInt(p.stamp) - t0) / 1e9);
  const x: Axis = { min: 0, max: Math.max(1e-9, times[times.length - 1] as number) };
  const y: Axis = { min: 0, max: 1 };
  const lines = QUESTION_TYPES.map((q) => {
    const path = points
      .map((p, i) => {
        const px = scale(times[i] as number, x, PAD.left, WIDTH - PAD.right).toFixed(1);
        const py = scale(p[q], y, HEIGHT - PAD.bottom, PAD.top).toFixed(1);
        return `${i === 0 ? 'M' : 'L'}${px},${py}`;
      })
      .join(' ');
    return `<path d="${path}" fill="none" stroke="${SERIES_COLOURS[q]}" stroke-width="2"${SERIES_DASH[q]}><title>${QUESTION_TITLES[q]}</title></path>`;
  }).join('');
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((v) => ({ value: v, label: `${v * 100}%` }));
  const xTicks = [0, x.max / 2, x.max]
    .map((v) => {
      const px = scale(v, x, PAD.left, WIDTH - PAD.right).toFixed(1);
      return `<text x="${px}" y="${HEIGHT - PAD.bottom + 14}" font-size="11" fill="#555" text-anchor="middle">${v.toFixed(1)} s</text>`;
    })
    .join('');
  return `${svg(`${frame('bag time since the first scored pair', 'cumulative accuracy', yTicks, y)}${lines}${xTicks}`, 'accuracy over time')}${legend()}`;
}

function legend(): string {
  return `<p class="legend">${QUESTION_TYPES.map((q) => `<span style="border-color:${SERIES_COLOURS[q]}">${QUESTION_TITLES[q]}</span>`).join(' ')}</p>`;
}

function latencyPlot(report: EvalReport): string {
  const values = report.pairs.map((p) => p.inferenceMs);
  const stats = report.latency.inferenceMs;
  if (values.length === 0 || !stats) return '<p class="note">No scored pairs.</p>';
  const x: Axis = { min: 0, max: Math.max(1, values.length - 1) };
  const y: Axis = { min: 0, max: Math.max(1, stats.max) * 1.1 };
  const dots = values
    .map((v, i) => {
      const px = scale(i, x, PAD.left, WIDTH - PAD.right).toFixed(1);
      const py = scale(v, y, HEIGHT - PAD.bottom, PAD.top).toFixed(1);
      return `<circle cx="${px}" cy="${py}" r="2.5" fill="#d62728" fill-opacity="0.7"><title>pair ${i}: ${v.toFixed(0)} ms</title></circle>`;
    })
    .join('');
  const marks = (
    [
      ['p50', stats.p50],
      ['p90', stats.p90],
    ] as const
  )
    .map(([name, v]) => {
      const py = scale(v, y, HEIGHT - PAD.bottom, PAD.top).toFixed(1);
      return `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${py}" y2="${py}" stroke="#999" stroke-dasharray="4 3"/><text x="${WIDTH - PAD.right}" y="${py}" dy="-3" text-anchor="end" font-size="11" fill="#555">${name} ${v.toFixed(0)} ms</text>`;
    })
    .join('');
  const yTicks = [0, y.max / 2, y.max].map((v) => ({ value: v, label: v.toFixed(0) }));
  return svg(
    `${frame('scored pair (replay order)', 'inference, ms', yTicks, y)}${marks}${dots}`,
    'latency per pair',
  );
}

function probabilities(probs: readonly number[]): string {
  return probs.map((p) => p.toFixed(2)).join(' / ');
}

function examplesSection(examples: readonly ExamplePair[]): string {
  if (examples.length === 0)
    return '<p class="note">No example pairs (no scored pair had its images at hand).</p>';
  return examples
    .map(({ pair, thumbnails }) => {
      const rows = QUESTION_TYPES.map((q) => {
        const ok = pair.truth[q] === pair.prediction[q];
        const probs = pair.prediction[`${q}Probs`];
        return `<tr class="${ok ? 'ok' : 'bad'}"><th>${QUESTION_TITLES[q]}</th><td>${pair.truth[q]}</td><td>${pair.prediction[q]}</td><td>${probabilities(probs)}</td><td>${ok ? '&#10003;' : '&#10007;'}</td></tr>`;
      }).join('');
      const yaw = `<tr><th>Yaw, degrees</th><td>${num(pair.truth.yawDegrees)}</td><td>${num(pair.prediction.yawDegrees)}</td><td colspan="2">consistency ${num(pair.prediction.consistency, 2)}${pair.prediction.inconsistent ? ' (inconsistent)' : ''}</td></tr>`;
      return `<div class="example"><div class="images"><figure><img src="${thumbnails[0]}" alt="${escape(pair.cameras[0])}"><figcaption>${escape(pair.cameras[0])} (source)</figcaption></figure><figure><img src="${thumbnails[1]}" alt="${escape(pair.cameras[1])}"><figcaption>${escape(pair.cameras[1])} (target)</figcaption></figure></div><table><tr><th></th><th>truth</th><th>answer</th><th>P(left / none / right)</th><th></th></tr>${rows}${yaw}</table><p class="meta">stamps ${pair.stamps.map(String).join(', ')} ns; ${pair.inferenceMs.toFixed(0)} ms</p></div>`;
    })
    .join('');
}

function skipsSection(report: EvalReport): string {
  if (report.skipped.length === 0) return '';
  const byReason = new Map<string, { count: number; example: string }>();
  for (const skip of report.skipped) {
    const entry = byReason.get(skip.reason) ?? { count: 0, example: skip.message };
    entry.count += 1;
    byReason.set(skip.reason, entry);
  }
  const rows = [...byReason.entries()]
    .map(
      ([reason, e]) => `<tr><th>${escape(reason)}</th><td>${e.count}</td><td>${escape(e.example)}</td></tr>`,
    )
    .join('');
  return `<h2>Skipped pairs</h2><table class="skips"><tr><th>reason</th><th>pairs</th><th>first message</th></tr>${rows}</table>`;
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse}th,td{padding:4px 8px;border:1px solid #e3e3e3;text-align:left;vertical-align:top}
table.summary th{background:#f6f6f6;width:260px}
.confusions{display:flex;flex-wrap:wrap;gap:20px}.confusion td{text-align:center;min-width:48px}.confusion td.total{color:#777}
figure{margin:0}figcaption{font-weight:600;margin-bottom:4px}
svg{background:#fff;border:1px solid #eee;max-width:100%;height:auto}
.legend span{border-left:14px solid;padding-left:6px;margin-right:16px}
.note{color:#666;font-style:italic}.warning{background:#fff4d6;border:1px solid #f0c36d;padding:8px 12px}
.example{border:1px solid #e3e3e3;padding:10px;margin:10px 0;display:flex;gap:16px;flex-wrap:wrap;align-items:flex-start}
.example .images{display:flex;gap:8px}.example img{width:160px;image-rendering:auto;border:1px solid #ccc}
.example tr.ok td:last-child{color:#2ca02c;font-weight:700}.example tr.bad td:last-child{color:#d62728;font-weight:700}
.meta{color:#777;font-size:12px;width:100%;margin:0}
`;

/** The page for a report and its example pairs. */
export function renderHtmlReport(report: EvalReport, examples: readonly ExamplePair[]): string {
  const warnings = [
    report.model.note,
    report.bag.truncated,
    report.bag.interrupted
      ? `Interrupted by ${report.bag.interrupted}: the report covers the ${report.bag.messagesReplayed} messages replayed before it.`
      : null,
    report.counts.tf.missingFrames.length > 0
      ? `Optical frames not in tf (their pairs are skipped): ${report.counts.tf.missingFrames.join(', ')}`
      : null,
  ]
    .filter((w): w is string => w !== null)
    .map((w) => `<p class="warning">${escape(w)}</p>`)
    .join('');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>actial eval: ${escape(report.model.name)} on ${escape(report.bag.path)}</title><style>${STYLE}</style></head>
<body>
<h1>Viewpoint evaluation: ${escape(report.model.name)}</h1>
<p class="meta">${escape(report.createdAt)} &middot; ${escape(report.tool.name)} ${escape(report.tool.version)} &middot; ground truth from tf</p>
${warnings}
<h2>Summary</h2>
${summaryTable(report)}
<h2>Confusion matrices</h2>
<div class="confusions">${QUESTION_TYPES.map((q) => confusionTable(q, report.confusion[q])).join('')}</div>
<h2>Yaw error</h2>
${yawHistogram(report)}
<h2>Accuracy over time</h2>
${accuracyPlot(report)}
<h2>Latency</h2>
${latencyPlot(report)}
<h2>Example pairs</h2>
${examplesSection(examples)}
${skipsSection(report)}
</body></html>
`;
}
