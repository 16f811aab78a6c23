/// <reference path="./lectern-plugin-types.d.ts" />
declare module 'lectern:plugin/embed@0.2.0' {
  /**
   * The model's name and version, so stored vectors can be invalidated when it changes.
   */
  export function model(): string;
  export function dimension(): number;
  /**
   * One vector per input text, each of `dimension` finite values, unit length.
   */
  export function embed(texts: Array<string>): Array<Float32Array>;
  export type Error = import('lectern:plugin/types@0.2.0').Error;
}
