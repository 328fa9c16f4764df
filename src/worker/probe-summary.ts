/** What the Probe page shows of a probe: counts, per subject, the letter-position bias and every question. */
import type { QuestionBank } from '../lab/experiment';
import type { ProbeResult } from '../lab/probe';
import type { ProbeSummary } from './protocol';

export function probeSummary(probeId: string, result: ProbeResult, bank: QuestionBank): ProbeSummary {
  const byId = new Map(bank.pool.map((q) => [q.id, q]));
  const subjects = [...new Set(result.items.map((i) => i.subject))].sort();
  return {
    probeId,
    questions: result.counts.total,
    known: result.counts.known,
    unknown: result.counts.unknown,
    dropped: result.counts.discarded,
    perSubject: subjects.map((subject) => {
      const its = result.items.filter((i) => i.subject === subject);
      const n = (s: string) => its.filter((i) => i.status === s).length;
      return { subject, known: n('known'), unknown: n('unknown'), dropped: n('discarded') };
    }),
    accuracy: Number.isFinite(result.accuracy) ? result.accuracy : 0,
    method: result.settings.method,
    rows: result.items.map((it) => {
      const q = byId.get(it.id);
      const slick = it.slick ? { category: it.slick.category, greedyRight: it.slick.greedyRight, sampledRight: it.slick.sampledRight } : {};
      return { id: it.id, subject: it.subject, question: q?.question ?? '', options: q ? [...q.options] : [], gold: it.gold, belief: it.pred, confidence: it.confidence, status: it.status, ...slick, ...(q?.group ? { group: q.group } : {}) };
    }),
    letterBias: { n: result.letterBias.n, predicted: [...result.letterBias.predicted], gold: [...result.letterBias.gold] },
    warnings: [...result.warnings],
    ...(result.slick ? { slick: structuredClone(result.slick) } : {}),
  };
}
