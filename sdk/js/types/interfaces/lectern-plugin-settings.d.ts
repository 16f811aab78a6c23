/// <reference path="./lectern-plugin-types.d.ts" />
declare module 'lectern:plugin/settings@0.2.0' {
  /**
   * A JSON object; `{}` when nothing is configured.
   */
  export function get(): Json;
  export type Json = import('lectern:plugin/types@0.2.0').Json;
}
