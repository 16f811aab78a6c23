declare module 'lectern:plugin/clock@0.2.0' {
  /**
   * Milliseconds since the Unix epoch.
   */
  export function nowMs(): bigint;
}
