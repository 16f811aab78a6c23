/// <reference path="./lectern-plugin-types.d.ts" />
declare module 'lectern:plugin/tutor@0.2.0' {
  /**
   * Chunks and indexes a document; returns how many chunks it stored.
   */
  export function indexDocument(ctx: Context, doc: Document): number;
  export function removeDocument(ctx: Context, id: string): void;
  export function ask(ctx: Context, q: Question): Answer;
  export type Context = import('lectern:plugin/types@0.2.0').Context;
  export type Error = import('lectern:plugin/types@0.2.0').Error;
  export interface Document {
    id: string,
    course: string,
    item: string,
    title: string,
    text: string,
    language: string,
  }
  export interface Turn {
    question: string,
    answer: string,
  }
  export interface OpenAssessment {
    id: string,
    title: string,
    proctored: boolean,
    /**
     * Item ids of the course material the assessment covers, when the instructor said so.
     */
    covers: Array<string>,
  }
  export interface Question {
    text: string,
    course: string,
    /**
     * Earlier turns of this conversation, oldest first.
     */
    history: Array<Turn>,
    /**
     * The assessment whose attempt the student has open, if any (set by
     * the kernel; the tutor decides what it may say about its topics).
     */
    openAssessment?: OpenAssessment,
  }
  export interface Citation {
    documentId: string,
    item: string,
    /**
     * The item's title.
     */
    title: string,
    /**
     * The section the excerpt is from (its heading), if any.
     */
    heading?: string,
    /**
     * The section's anchor in the rendered page, for a link to it.
     */
    anchor?: string,
    excerpt: string,
    score: number,
  }
  export interface Answer {
    text: string,
    citations: Array<Citation>,
    /**
     * Present when the tutor declined to answer, with the reason shown to the student.
     */
    refusal?: string,
  }
}
