// {{name}}: a Lectern question type in JavaScript (lectern:plugin@0.2.0).
//
// One type, `arithmetic`: each attempt draws two whole numbers from the
// kernel's seed and asks for their sum or product. Build it with
// `lectern plugin build`, test it with `lectern plugin test`, package it with
// `lectern plugin pack`. Grading worlds have no clock, no kv and a fuel budget:
// the same question, instance and response always give the same result.
// A u64 such as the seed arrives as a BigInt.

import * as errors from '@lectern/sdk/errors';
import { simpleLifecycle } from '@lectern/sdk/lifecycle';

const TYPE = 'arithmetic';
const MASK = (1n << 64n) - 1n;

const SETTINGS_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  additionalProperties: false,
  properties: {
    operation: { enum: ['add', 'multiply'], default: 'add' },
    min: { type: 'integer', minimum: -1000000, maximum: 1000000, default: 1 },
    max: { type: 'integer', minimum: -1000000, maximum: 1000000, default: 12 },
  },
};
const RESPONSE_SCHEMA = {
  type: 'object',
  required: ['answer'],
  additionalProperties: false,
  properties: { answer: { type: 'string', maxLength: 32 } },
};

/**
 * The next [state, value]: the same sequence as the Python template.
 * @param {bigint} state
 * @returns {[bigint, bigint]}
 */
function splitmix64(state) {
  state = (state + 0x9e3779b97f4a7c15n) & MASK;
  let z = state;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK;
  return [state, z ^ (z >> 31n)];
}

/**
 * @param {import('lectern:plugin/question-type@0.2.0').Question} q
 * @returns {[string, number, number]}
 */
function settingsOf(q) {
  if (q.typeId !== TYPE) throw errors.invalidInput(`this plugin has no question type \`${q.typeId}\``);
  const s = JSON.parse(q.settings);
  const low = s.min ?? 1;
  const high = s.max ?? 12;
  if (low > high) throw errors.invalidInput('`min` must not be greater than `max`');
  return [s.operation ?? 'add', low, high];
}

/** @param {string} text */
function wholeNumber(text) {
  const t = text.trim();
  return /^[+-]?\d+$/.test(t) ? Number(t) : null;
}

/** @param {string} s */
const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export const lifecycle = simpleLifecycle({ id: '{{id}}', name: '{{name}}', version: '0.1.0' });

/** @type {typeof import('lectern:plugin/question-type@0.2.0')} */
export const questionType = {
  types() {
    return [
      {
        id: TYPE,
        name: 'Arithmetic drill',
        description: 'Two whole numbers drawn for each attempt, added or multiplied.',
        settingsSchema: JSON.stringify(SETTINGS_SCHEMA),
        responseSchema: JSON.stringify(RESPONSE_SCHEMA),
      },
    ];
  },

  instantiate(ctx, q, seed) {
    const [op, low, high] = settingsOf(q);
    const span = BigInt(high - low + 1);
    const [state, x] = splitmix64(BigInt(seed));
    const [, y] = splitmix64(state);
    const a = low + Number(x % span);
    const b = low + Number(y % span);
    const answer = op === 'add' ? a + b : a * b;
    const sign = op === 'add' ? '+' : '×';
    return {
      data: JSON.stringify({ a, b, answer }),
      view: {
        html:
          `<p>What is ${a} ${escapeHtml(sign)} ${b}?</p>` +
          '<label>Your answer <input name="answer" type="text" inputmode="numeric" autocomplete="off" maxlength="32"></label>',
        assets: [],
      },
    };
  },

  validate(ctx, q, instance, response) {
    const answer = JSON.parse(response).answer ?? '';
    if (answer.trim() && wholeNumber(answer) === null) {
      // Shown to the student; nothing is saved.
      throw errors.invalidInput('Write a whole number, like 42.');
    }
  },

  grade(ctx, items) {
    return items.map((item) => {
      const expected = JSON.parse(item.instance).answer;
      const given = item.response ? wholeNumber(JSON.parse(item.response).answer ?? '') : null;
      const fraction = given !== null && given === expected ? 1 : 0;
      return {
        questionId: item.question.id,
        status: 'graded',
        fraction,
        feedback: [],
        explanation: [`expected ${expected}, got ${given === null ? 'nothing' : given}`],
      };
    });
  },
};
