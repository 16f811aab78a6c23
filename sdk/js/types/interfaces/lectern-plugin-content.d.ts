/// <reference path="./lectern-plugin-types.d.ts" />
declare module 'lectern:plugin/content@0.2.0' {
  export function renderMarkdown(ctx: Context, source: string): RenderedPage;
  /**
   * What each item looks like to a student with this progress at this time.
   */
  export function itemVisibility(ctx: Context, modules: Array<Module>, progress: Array<Progress>, nowMs: bigint): Array<Visibility>;
  export type Context = import('lectern:plugin/types@0.2.0').Context;
  export type Error = import('lectern:plugin/types@0.2.0').Error;
  export interface Heading {
    level: number,
    text: string,
    anchor: string,
  }
  export interface RenderedPage {
    /**
     * Sanitised HTML: no scripts, event handlers or `javascript:` URLs.
     */
    html: string,
    toc: Array<Heading>,
    words: number,
    readingMinutes: number,
    /**
     * Plain text for search and tutoring.
     */
    text: string,
  }
  export type ItemKind = ItemKindPage | ItemKindVideo | ItemKindFile | ItemKindLink | ItemKindAssessment | ItemKindActivity;
  export interface ItemKindPage {
    tag: 'page',
  }
  export interface ItemKindVideo {
    tag: 'video',
  }
  export interface ItemKindFile {
    tag: 'file',
  }
  export interface ItemKindLink {
    tag: 'link',
  }
  export interface ItemKindAssessment {
    tag: 'assessment',
  }
  /**
   * An activity provided by a plugin: `plugin-id/kind-id`.
   */
  export interface ItemKindActivity {
    tag: 'activity',
    val: string,
  }
  export type Prerequisite = PrerequisiteCompleted | PrerequisiteScoredAtLeast;
  /**
   * The item must be completed.
   */
  export interface PrerequisiteCompleted {
    tag: 'completed',
    val: string,
  }
  /**
   * The item must be scored at least this fraction.
   */
  export interface PrerequisiteScoredAtLeast {
    tag: 'scored-at-least',
    val: [string, number],
  }
  export type CompletionRule = CompletionRuleViewed | CompletionRuleManual | CompletionRuleMinScore;
  export interface CompletionRuleViewed {
    tag: 'viewed',
  }
  /**
   * Marked complete by the student.
   */
  export interface CompletionRuleManual {
    tag: 'manual',
  }
  /**
   * A score of at least this fraction on the item.
   */
  export interface CompletionRuleMinScore {
    tag: 'min-score',
    val: number,
  }
  export interface Item {
    id: string,
    kind: ItemKind,
    title: string,
    prerequisites: Array<Prerequisite>,
    /**
     * Not visible before this time (ms since the Unix epoch).
     */
    releaseAtMs?: bigint,
    completion: CompletionRule,
  }
  export interface Module {
    id: string,
    title: string,
    items: Array<Item>,
    releaseAtMs?: bigint,
  }
  export interface Progress {
    itemId: string,
    completed: boolean,
    score?: number,
  }
  export interface Visibility {
    itemId: string,
    visible: boolean,
    /**
     * Visible but not yet open (a prerequisite is unmet).
     */
    locked: boolean,
    reason?: string,
  }
}
