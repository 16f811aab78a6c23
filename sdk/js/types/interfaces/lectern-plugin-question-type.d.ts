/// <reference path="./lectern-plugin-types.d.ts" />
declare module 'lectern:plugin/question-type@0.2.0' {
  /**
   * The types this plugin provides (1–32, unique ids). The kernel calls it
   * once when a version starts, checks the schemas (no `$ref` is ever
   * fetched) and offers the types to authors while that version is active.
   */
  export function types(): Array<TypeInfo>;
  /**
   * Called when an attempt starts. `seed` is the kernel's, derived from the
   * attempt and the question, so a restart or a regrade sees the same instance.
   */
  export function instantiate(ctx: Context, question: Question, seed: bigint): Instance;
  /**
   * Checks a response beyond its schema before it is saved (an error's
   * message is shown to the student; nothing is saved).
   */
  export function validate(ctx: Context, question: Question, instance: Json, response: Json): void;
  /**
   * Grades a batch, one result per item in the same order.
   */
  export function grade(ctx: Context, items: Array<ToGrade>): Array<Graded>;
  export type Context = import('lectern:plugin/types@0.2.0').Context;
  export type Error = import('lectern:plugin/types@0.2.0').Error;
  export type Json = import('lectern:plugin/types@0.2.0').Json;
  export type View = import('lectern:plugin/types@0.2.0').View;
  export interface TypeInfo {
    /**
     * Unique within the plugin, e.g. `formula`: `[a-z0-9-]{1,64}`.
     */
    id: string,
    name: string,
    description: string,
    /**
     * JSON Schema (2020-12) of the question's settings (what the author
     * writes: the formula, the parameter ranges, the tolerance).
     */
    settingsSchema: Json,
    /**
     * JSON Schema of a response; the kernel refuses a save that does not
     * match it before calling `validate`.
     */
    responseSchema: Json,
  }
  export interface Question {
    /**
     * The question's id within its assessment.
     */
    id: string,
    typeId: string,
    settings: Json,
    points: number,
  }
  /**
   * The question as one attempt sees it.
   */
  export interface Instance {
    /**
     * What grading needs to know about this attempt's version of the
     * question (the drawn parameters, the right answer): stored by the
     * kernel with the attempt, never sent to the student.
     */
    data: Json,
    /**
     * The student's view: the prompt and the inputs. Inputs are form
     * fields; their values, as a JSON object, are the response.
     */
    view: View,
  }
  export interface ToGrade {
    question: Question,
    instance: Json,
    /**
     * None when unanswered.
     */
    response?: Json,
  }
  /**
   * # Variants
   * 
   * ## `"graded"`
   * 
   * ## `"needs-manual-grading"`
   * 
   * Needs a person; scored zero until one grades it.
   * ## `"invalid-response"`
   * 
   * The response does not fit the question; scored zero.
   */
  export type Status = 'graded' | 'needs-manual-grading' | 'invalid-response';
  export interface Feedback {
    /**
     * The input it is about (a field name); none for the whole question.
     */
    target?: string,
    message: string,
  }
  export interface Graded {
    questionId: string,
    status: Status,
    /**
     * Fraction of the points earned, in [0, 1], before the attempt's
     * penalties (tries, hints, lateness), which the kernel applies as it
     * does for built-in types.
     */
    fraction: number,
    feedback: Array<Feedback>,
    /**
     * Human-readable steps that justify the score, in order.
     */
    explanation: Array<string>,
  }
}
