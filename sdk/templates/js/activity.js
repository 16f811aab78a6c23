// {{name}}: a Lectern activity in JavaScript (lectern:plugin@0.2.0).
//
// One kind, `checklist`: the instructor lists steps; each learner ticks them
// off; the score is the share of steps done, and the item is complete when
// every step is. The learner's state (which steps are done) is kept by the
// kernel, per item and learner. Build it with `lectern plugin build`, test it
// with `lectern plugin test`, package it with `lectern plugin pack`.

import { markComplete, recordScore } from 'lectern:plugin/gradebook@0.2.0';
import * as errors from '@lectern/sdk/errors';
import { simpleLifecycle } from '@lectern/sdk/lifecycle';

const KIND = 'checklist';
const SETTINGS_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['steps'],
  additionalProperties: false,
  properties: {
    steps: {
      type: 'array',
      minItems: 1,
      maxItems: 50,
      items: { type: 'string', minLength: 1, maxLength: 300 },
      description: 'What the learner does, one step per line.',
    },
  },
};

/** @param {import('lectern:plugin/activity@0.2.0').Item} item @returns {string[]} */
function stepsOf(item) {
  if (item.kind !== KIND) throw errors.invalidInput(`this plugin has no activity kind \`${item.kind}\``);
  return JSON.parse(item.settings).steps;
}

/** @param {import('lectern:plugin/activity@0.2.0').LearnerState | undefined} state @param {number} count */
function doneOf(state, count) {
  if (!state) return new Set();
  const indices = /** @type {number[]} */ (JSON.parse(new TextDecoder().decode(state.data)));
  return new Set(indices.filter((i) => i >= 0 && i < count));
}

/** @param {string} s */
const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** @param {string[]} steps @param {Set<number>} done */
function view(steps, done) {
  const rows = steps
    .map(
      (step, i) =>
        `<li><form><input type="hidden" name="step" value="${i}">` +
        `<button data-action="toggle" aria-pressed="${done.has(i)}">${done.has(i) ? 'Done' : 'To do'}</button> ` +
        `${escapeHtml(step)}</form></li>`,
    )
    .join('');
  const summary = `<p class="progress">${done.size} of ${steps.length} steps done</p>`;
  return { html: `<ol>${rows}</ol>${summary}`, assets: [] };
}

export const lifecycle = simpleLifecycle({ id: '{{id}}', name: '{{name}}', version: '0.1.0' });

/** @type {typeof import('lectern:plugin/activity@0.2.0')} */
export const activity = {
  kinds() {
    return [
      {
        id: KIND,
        name: 'Checklist',
        description: 'Steps each learner ticks off; scored by the share done, complete when all are.',
        settingsSchema: JSON.stringify(SETTINGS_SCHEMA),
        graded: true,
      },
    ];
  },

  render(ctx, item, state) {
    const steps = stepsOf(item);
    return view(steps, doneOf(state, steps.length));
  },

  // The kernel builds the form from the settings schema.
  renderSettings(ctx, kind, settings) {
    return undefined;
  },

  act(ctx, item, state, action) {
    const steps = stepsOf(item);
    let done = doneOf(state, steps.length);
    const before = done.size;
    if (action.name === 'toggle') {
      const step = String(JSON.parse(action.payload).step ?? '');
      if (!/^\d+$/.test(step) || Number(step) >= steps.length) throw errors.invalidInput(`no step '${step}'`);
      const i = Number(step);
      if (done.has(i)) done.delete(i);
      else done.add(i);
    } else if (action.name === 'reset') {
      done = new Set();
    } else {
      throw errors.invalidInput(`no action \`${action.name}\``);
    }
    if (ctx.user !== undefined && done.size !== before) {
      recordScore({
        learner: ctx.user,
        points: done.size,
        maxPoints: steps.length,
        feedback: `${done.size} of ${steps.length} steps done`,
      });
      if (done.size === steps.length) markComplete(ctx.user);
    }
    const sorted = [...done].sort((a, b) => a - b);
    return {
      state: new TextEncoder().encode(JSON.stringify(sorted)),
      view: view(steps, done),
      message: done.size === steps.length ? 'Every step done: the activity is complete.' : undefined,
    };
  },
};
