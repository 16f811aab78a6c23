/// <reference path="./lectern-plugin-types.d.ts" />
declare module 'lectern:plugin/activity@0.2.0' {
  /**
   * The kinds this plugin provides; must match the manifest's `activities`.
   */
  export function kinds(): Array<ActivityKind>;
  /**
   * What the learner (`ctx.user`) sees, given their state (none before the first action).
   */
  export function render(ctx: Context, item: Item, state: LearnerState | undefined): View;
  /**
   * An instructor's settings form for a kind (`settings` is none for a new
   * item). None: the kernel builds the form from the settings schema.
   */
  export function renderSettings(ctx: Context, kind: string, settings: Json | undefined): View | undefined;
  /**
   * A learner's (or an instructor's) action on an item. May record scores
   * and completions through the `gradebook` import during the call.
   */
  export function act(ctx: Context, item: Item, state: LearnerState | undefined, action: Action): Outcome;
  export type Context = import('lectern:plugin/types@0.2.0').Context;
  export type Error = import('lectern:plugin/types@0.2.0').Error;
  export type Json = import('lectern:plugin/types@0.2.0').Json;
  export type View = import('lectern:plugin/types@0.2.0').View;
  export interface ActivityKind {
    /**
     * Unique within the plugin, e.g. `flashcards`: `[a-z0-9-]{1,64}`.
     */
    id: string,
    /**
     * Shown to instructors when they add an item, in the plugin's default language.
     */
    name: string,
    description: string,
    /**
     * JSON Schema (2020-12) of the instructor's settings for an item of
     * this kind. The kernel validates settings against it before storing
     * them and shows a form built from it unless `render-settings` gives a view.
     */
    settingsSchema: Json,
    /**
     * Whether items of this kind report scores to the gradebook.
     */
    graded: boolean,
  }
  /**
   * The activity item a call is about.
   */
  export interface Item {
    id: string,
    kind: string,
    title: string,
    /**
     * Valid against the kind's `settings-schema`.
     */
    settings: Json,
    /**
     * Grows each time an instructor changes the settings.
     */
    settingsRevision: number,
  }
  export interface LearnerState {
    /**
     * What the plugin returned last time, at most 64 KiB.
     */
    data: Uint8Array,
    /**
     * 1 for the first stored state, then one more per change.
     */
    version: bigint,
  }
  export interface Action {
    /**
     * The `data-action` of the element the learner used, `[a-z0-9-]{1,64}`.
     */
    name: string,
    /**
     * The enclosing form's fields as a JSON object (strings, or lists of
     * strings for repeated names), at most 64 KiB.
     */
    payload: Json,
  }
  export interface Outcome {
    /**
     * The learner's new state; none leaves it as it was.
     */
    state?: Uint8Array,
    /**
     * The view after the action (none: render again from the new state).
     */
    view?: View,
    /**
     * A short message for the learner, announced to assistive technology.
     */
    message?: string,
  }
}
