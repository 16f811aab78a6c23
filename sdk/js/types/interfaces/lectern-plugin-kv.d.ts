/// <reference path="./lectern-plugin-types.d.ts" />
declare module 'lectern:plugin/kv@0.2.0' {
  /**
   * Limits: keys 1–512 bytes of UTF-8 without NUL; values up to 1 MiB;
   * a per-plugin, per-institution byte quota set by the admin.
   */
  export function get(key: string): Uint8Array | undefined;
  export function set(key: string, value: Uint8Array): void;
  /**
   * Returns whether the key existed.
   */
  export { _delete as delete };
  function _delete(key: string): boolean;
  /**
   * Keys that start with `prefix`, in byte order, strictly after `after`, at most `limit` (≤ 1000).
   */
  export function listKeys(prefix: string, after: string | undefined, limit: number): Array<string>;
  /**
   * Writes `new` (`none` deletes) only if the current value equals
   * `expected` (`none`: the key is absent). Returns whether it wrote.
   */
  export function compareAndSwap(key: string, expected: Uint8Array | undefined, new_: Uint8Array | undefined): boolean;
  export type Error = import('lectern:plugin/types@0.2.0').Error;
}
