// {{name}}: a Lectern grading plugin in JavaScript (lectern:plugin@0.2.0).
//
// It grades true/false and single-choice questions, sends everything else to
// manual grading, and counts what it graded per institution. Build it with
// `lectern plugin build`, test it with `lectern plugin test`, package it with
// `lectern plugin pack`. Types: node_modules/@lectern/sdk/types (from the WIT; jsconfig.json includes them).

import * as errors from '@lectern/sdk/errors';
import { simpleLifecycle } from '@lectern/sdk/lifecycle';
import * as log from '@lectern/sdk/log';
import * as store from '@lectern/sdk/store';

export const lifecycle = simpleLifecycle({ id: '{{id}}', name: '{{name}}', version: '0.1.0' });

/**
 * @param {import('lectern:plugin/grader@0.2.0').Submission} s
 * @returns {import('lectern:plugin/grader@0.2.0').Graded}
 */
function gradeOne(s) {
  const q = s.question;
  const r = s.response;
  /** @type {import('lectern:plugin/grader@0.2.0').Status} */
  let status = 'graded';
  let fraction = 0;
  let why = '';
  if (r === undefined || r === null) {
    why = 'no response';
  } else if (q.key.tag === 'true-false' && r.tag === 'boolean') {
    fraction = q.key.val === r.val ? 1 : 0;
    why = `expected ${q.key.val}, got ${r.val}`;
  } else if (q.key.tag === 'single-choice' && r.tag === 'choices') {
    const right = q.key.val.options.filter((o) => o.correct).map((o) => o.id);
    fraction = r.val.length === 1 && r.val[0] === right[0] ? 1 : 0;
    why = `expected ${right.join(', ')}, got ${r.val.join(', ') || 'nothing'}`;
  } else if (q.key.tag === 'true-false' || q.key.tag === 'single-choice') {
    status = 'invalid-response';
    why = 'the response does not fit the question';
  } else {
    status = 'needs-manual-grading';
    why = 'this plugin grades true/false and single choice only';
  }
  return {
    questionId: q.id,
    status,
    points: fraction * q.points,
    maxPoints: q.points,
    rawFraction: fraction,
    feedback: [],
    explanation: [why],
  };
}

/** @type {typeof import('lectern:plugin/grader@0.2.0')} */
export const grader = {
  grade(ctx, submissions) {
    if (submissions.length > 1000) {
      // An error the kernel reports, not a crash: throw one of @lectern/sdk/errors.
      throw errors.invalidInput(`${submissions.length} submissions in one batch; at most 1000`);
    }
    const graded = submissions.map(gradeOne);
    store.update('graded', (n) => n + graded.length, 0);
    log.info(`graded ${graded.length} submissions`, { institution: ctx.institution });
    return graded;
  },
};
