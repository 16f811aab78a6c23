/// <reference path="./lectern-plugin-types.d.ts" />
declare module 'lectern:plugin/grader@0.2.0' {
  /**
   * Grades a batch, one result per submission in the same order.
   */
  export function grade(ctx: Context, submissions: Array<Submission>): Array<Graded>;
  export type Context = import('lectern:plugin/types@0.2.0').Context;
  export type Error = import('lectern:plugin/types@0.2.0').Error;
  /**
   * How partial credit works for multiple-answer choice questions.
   * # Variants
   * 
   * ## `"all-or-nothing"`
   * 
   * ## `"right-minus-wrong"`
   * 
   * (right − wrong) / correct, floored at zero.
   * ## `"per-option-weights"`
   * 
   * Sum of the chosen options' weights, clamped to [0, 1].
   */
  export type MultiRule = 'all-or-nothing' | 'right-minus-wrong' | 'per-option-weights';
  export interface ChoiceOption {
    id: string,
    correct: boolean,
    /**
     * Used by `per-option-weights`; may be negative.
     */
    weight: number,
    feedback?: string,
  }
  export interface ChoiceKey {
    options: Array<ChoiceOption>,
    rule: MultiRule,
  }
  export interface Unit {
    name: string,
    /**
     * Multiply a value in this unit by `factor` to get the key's unit.
     */
    factor: number,
  }
  export interface NumericKey {
    value: number,
    absoluteTolerance?: number,
    /**
     * Fraction of `value`, e.g. 0.01 for 1 %.
     */
    relativeTolerance?: number,
    /**
     * Accepted units; empty means the response must carry no unit.
     */
    units: Array<Unit>,
    /**
     * Fraction of the points when the number is right but the unit is missing or unknown.
     */
    unitMissingCredit: number,
  }
  export interface TextAlternative {
    /**
     * Literal text, or a regular expression when `regex` is set.
     */
    pattern: string,
    regex: boolean,
    /**
     * Fraction of the points this alternative earns (1.0 for a full answer).
     */
    credit: number,
    feedback?: string,
  }
  export interface TextKey {
    alternatives: Array<TextAlternative>,
    caseSensitive: boolean,
    /**
     * Collapse runs of white space and trim before comparing (text is always NFC-normalised).
     */
    normalizeWhitespace: boolean,
  }
  export interface Pair {
    left: string,
    right: string,
  }
  export interface RubricCriterion {
    id: string,
    description: string,
    points: number,
  }
  export type AnswerKey = AnswerKeySingleChoice | AnswerKeyMultipleChoice | AnswerKeyTrueFalse | AnswerKeyNumeric | AnswerKeyShortAnswer | AnswerKeyMatching | AnswerKeyOrdering | AnswerKeyFillBlanks | AnswerKeyEssay;
  export interface AnswerKeySingleChoice {
    tag: 'single-choice',
    val: ChoiceKey,
  }
  export interface AnswerKeyMultipleChoice {
    tag: 'multiple-choice',
    val: ChoiceKey,
  }
  export interface AnswerKeyTrueFalse {
    tag: 'true-false',
    val: boolean,
  }
  export interface AnswerKeyNumeric {
    tag: 'numeric',
    val: NumericKey,
  }
  export interface AnswerKeyShortAnswer {
    tag: 'short-answer',
    val: TextKey,
  }
  /**
   * The correct pairs; credit by pairs.
   */
  export interface AnswerKeyMatching {
    tag: 'matching',
    val: Array<Pair>,
  }
  /**
   * The correct order of item ids; credit by correctly ordered pairs.
   */
  export interface AnswerKeyOrdering {
    tag: 'ordering',
    val: Array<string>,
  }
  /**
   * One key per blank, in order.
   */
  export interface AnswerKeyFillBlanks {
    tag: 'fill-blanks',
    val: Array<TextKey>,
  }
  /**
   * Routed to manual grading against the rubric.
   */
  export interface AnswerKeyEssay {
    tag: 'essay',
    val: Array<RubricCriterion>,
  }
  export interface NumericResponse {
    value: number,
    unit?: string,
  }
  export type Response = ResponseChoices | ResponseBoolean | ResponseNumber | ResponseText | ResponsePairs | ResponseSequence | ResponseBlanks | ResponseEssay;
  export interface ResponseChoices {
    tag: 'choices',
    val: Array<string>,
  }
  export interface ResponseBoolean {
    tag: 'boolean',
    val: boolean,
  }
  export interface ResponseNumber {
    tag: 'number',
    val: NumericResponse,
  }
  export interface ResponseText {
    tag: 'text',
    val: string,
  }
  export interface ResponsePairs {
    tag: 'pairs',
    val: Array<Pair>,
  }
  export interface ResponseSequence {
    tag: 'sequence',
    val: Array<string>,
  }
  export interface ResponseBlanks {
    tag: 'blanks',
    val: Array<string>,
  }
  export interface ResponseEssay {
    tag: 'essay',
    val: string,
  }
  export interface Penalties {
    /**
     * Tries already used before this one (0 for the first).
     */
    previousTries: number,
    /**
     * Fraction of the points lost per previous try.
     */
    perTry: number,
    hintsUsed: number,
    /**
     * Fraction of the points lost per hint.
     */
    perHint: number,
    /**
     * How late the submission was, in seconds (0 if on time).
     */
    lateSeconds: bigint,
    /**
     * Fraction lost per started day late.
     */
    perLateDay: number,
    /**
     * Highest total fraction that penalties may take.
     */
    maxTotal: number,
  }
  export interface Question {
    id: string,
    key: AnswerKey,
    /**
     * Points the question is worth in the assessment.
     */
    points: number,
  }
  export interface Submission {
    question: Question,
    /**
     * `none` when unanswered.
     */
    response?: Response,
    penalties: Penalties,
  }
  /**
   * # Variants
   * 
   * ## `"graded"`
   * 
   * ## `"needs-manual-grading"`
   * 
   * Needs a person (essays, or a key the grader cannot apply).
   * ## `"invalid-response"`
   * 
   * The response does not fit the question type; scored zero.
   */
  export type Status = 'graded' | 'needs-manual-grading' | 'invalid-response';
  export interface Feedback {
    /**
     * What it is about: an option id, a blank index, a pair; `none` for the whole question.
     */
    target?: string,
    message: string,
  }
  export interface Graded {
    questionId: string,
    status: Status,
    /**
     * Points after penalties, in [0, question.points].
     */
    points: number,
    maxPoints: number,
    /**
     * Raw fraction before penalties, in [0, 1].
     */
    rawFraction: number,
    feedback: Array<Feedback>,
    /**
     * Human-readable steps that justify the score, in order.
     */
    explanation: Array<string>,
  }
}
