/// <reference path="./lectern-plugin-types.d.ts" />
declare module 'lectern:plugin/events@0.2.0' {
  /**
   * `key` orders events: those with the same key are delivered in order.
   */
  export function publish(topic: string, key: string, payload: Uint8Array): void;
  export type Error = import('lectern:plugin/types@0.2.0').Error;
}
