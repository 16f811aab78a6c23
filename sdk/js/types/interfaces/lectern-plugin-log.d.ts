/// <reference path="./lectern-plugin-types.d.ts" />
declare module 'lectern:plugin/log@0.2.0' {
  export function log(level: Level, message: string, fields: Array<Field>): void;
  export type Field = import('lectern:plugin/types@0.2.0').Field;
  /**
   * # Variants
   * 
   * ## `"trace"`
   * 
   * ## `"debug"`
   * 
   * ## `"info"`
   * 
   * ## `"warn"`
   * 
   * ## `"error"`
   */
  export type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';
}
