/// <reference path="./lectern-plugin-types.d.ts" />
declare module 'lectern:plugin/gradebook@0.2.0' {
  export function recordScore(score: Score): void;
  /**
   * Marks the item complete for `learner` (completion rules and prerequisites that
   * depend on it follow, as for built-in items). Idempotent.
   */
  export function markComplete(learner: Id): void;
  export type Id = import('lectern:plugin/types@0.2.0').Id;
  export type Error = import('lectern:plugin/types@0.2.0').Error;
  export interface Score {
    learner: Id,
    /**
     * In [0, max-points].
     */
    points: number,
    /**
     * Greater than zero; the item's weight in the course total is the instructor's.
     */
    maxPoints: number,
    /**
     * Shown to the learner with the grade.
     */
    feedback?: string,
  }
}
