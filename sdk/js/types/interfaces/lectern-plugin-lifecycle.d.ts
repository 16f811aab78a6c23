/// <reference path="./lectern-plugin-types.d.ts" />
declare module 'lectern:plugin/lifecycle@0.2.0' {
  export function info(): PluginInfo;
  /**
   * Called once per activation, before any other call.
   */
  export function init(): void;
  /**
   * Called when a newly activated version has a higher data version than
   * the one active before it. An error leaves the previous version active.
   */
  export function migrate(fromDataVersion: number): void;
  /**
   * Delivery of an event on a topic the manifest subscribes to, with what
   * it is about. An error is retried with backoff, then dead-lettered.
   */
  export function onEvent(ctx: EventContext, payload: Uint8Array): void;
  export type Error = import('lectern:plugin/types@0.2.0').Error;
  export type EventContext = import('lectern:plugin/types@0.2.0').EventContext;
  export interface PluginInfo {
    /**
     * Reverse-DNS id, e.g. `org.lectern.grading`; must match the manifest.
     */
    id: string,
    name: string,
    /**
     * Semantic version; must match the manifest.
     */
    version: string,
    /**
     * Version of the layout of the plugin's stored data. When it grows,
     * the kernel calls `migrate` before activating the new version.
     */
    dataVersion: number,
  }
}
