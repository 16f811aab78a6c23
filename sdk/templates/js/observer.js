// {{name}}: a Lectern observer in JavaScript (lectern:plugin@0.2.0).
//
// It watches the grades recorded in each course (`grade.recorded`) and
// notices a learner who is falling behind: after `streak` low grades in a row
// (below `low_fraction` of the points), it publishes `learner.at-risk` once,
// for a webhook, an email rule or another plugin to act on; a good grade
// resets the streak. Per course it keeps how many grades it saw and their
// mean. The administrator sets the two numbers in the plugin's settings:
//
//   {"low_fraction": 0.5, "streak": 3}
//
// Delivery is at least once: an event that comes again (same message id)
// changes nothing. Build it with `lectern plugin build`, test it with
// `lectern plugin test`, package it with `lectern plugin pack`.

import * as config from '@lectern/sdk/config';
import * as errors from '@lectern/sdk/errors';
import * as events from '@lectern/sdk/events';
import * as log from '@lectern/sdk/log';
import * as store from '@lectern/sdk/store';
import { simpleLifecycle } from '@lectern/sdk/lifecycle';

const DEFAULTS = { low_fraction: 0.5, streak: 3 };
const REMEMBERED = 256; // message ids kept per record, to drop redeliveries

/** @param {string[]} seen @param {string} messageId */
const remember = (seen, messageId) => [...seen, messageId].slice(-REMEMBERED);

/** @typedef {{grades: number, mean: number, seen: string[]}} CourseFigures */
/** @typedef {{streak: number, flagged: boolean, seen: string[]}} LearnerState */

export const lifecycle = {
  ...simpleLifecycle({ id: '{{id}}', name: '{{name}}', version: '0.1.0' }),

  /** @param {import('lectern:plugin/types@0.2.0').EventContext} ctx @param {Uint8Array} payload */
  onEvent(ctx, payload) {
    if (ctx.topic !== 'grade.recorded') return;
    /** @type {any} */
    let grade;
    try {
      grade = JSON.parse(new TextDecoder().decode(payload));
    } catch (e) {
      throw errors.invalidInput(`not a grade.recorded payload (${e})`);
    }
    const { course, student: learner, points, max_points: maxPoints } = grade ?? {};
    if (typeof course !== 'string' || typeof learner !== 'string' || typeof points !== 'number' || typeof maxPoints !== 'number') {
      throw errors.invalidInput('not a grade.recorded payload (course, student, points, max_points)');
    }
    const fraction = maxPoints > 0 ? points / maxPoints : 1;
    const settings = { ...DEFAULTS, ...config.get() };

    // The course's figures: a read-modify-write that retries when another delivery wrote first.
    store.update(
      `course/${course}`,
      (/** @type {CourseFigures} */ c) =>
        c.seen.includes(ctx.messageId)
          ? c
          : { grades: c.grades + 1, mean: (c.mean * c.grades + fraction) / (c.grades + 1), seen: remember(c.seen, ctx.messageId) },
      { grades: 0, mean: 0, seen: [] },
    );

    const key = `learner/${course}/${learner}`;
    const before = /** @type {LearnerState | undefined} */ (store.get(key));
    const state = before ?? { streak: 0, flagged: false, seen: [] };
    if (state.seen.includes(ctx.messageId)) return; // delivered again: already counted
    const streak = fraction < settings.low_fraction ? state.streak + 1 : 0;
    let flagged = state.flagged && streak > 0;
    if (streak >= settings.streak && !flagged) {
      // Published before the state is written: after a crash in between, the
      // redelivery publishes again (at least once), never not at all.
      events.publishJson('learner.at-risk', learner, { course, learner, low_grades_in_a_row: streak, last_item: grade.item });
      log.warn('learner at risk', { course, learner, streak });
      flagged = true;
    }
    const after = { streak, flagged, seen: remember(state.seen, ctx.messageId) };
    if (!store.compareAndSwap(key, before, after)) {
      // Another grade of this learner was counted meanwhile: the kernel delivers this one again.
      throw errors.conflict(`${key} changed during the call`);
    }
  },
};
