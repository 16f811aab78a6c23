/// <reference path="./lectern-plugin-types.d.ts" />
declare module 'lectern:plugin/vector@0.2.0' {
  /**
   * Creates the collection, or checks that an existing one has this shape.
   */
  export function ensureCollection(spec: CollectionSpec): void;
  /**
   * The plugin's own collections in the calling institution, by name.
   */
  export function listCollections(): Array<CollectionSpec>;
  /**
   * Drops a collection and every point in it. Returns whether it existed.
   */
  export function dropCollection(name: string): boolean;
  export function upsert(collection: string, points: Array<Point>): void;
  export { _delete as delete };
  function _delete(collection: string, ids: Array<string>): void;
  export function query(collection: string, vector: Float32Array, k: number, filter: Filter | undefined): Array<Hit>;
  export type Error = import('lectern:plugin/types@0.2.0').Error;
  export type Field = import('lectern:plugin/types@0.2.0').Field;
  /**
   * # Variants
   * 
   * ## `"cosine"`
   * 
   * ## `"dot"`
   * 
   * ## `"euclidean"`
   */
  export type Distance = 'cosine' | 'dot' | 'euclidean';
  export interface CollectionSpec {
    name: string,
    dimension: number,
    distance: Distance,
  }
  export interface Point {
    id: string,
    vector: Float32Array,
    /**
     * Filterable metadata, e.g. `course`, `item`, `language`, `visibility`.
     */
    metadata: Array<Field>,
  }
  /**
   * Every listed field must match exactly. Applied during the search.
   */
  export interface Filter {
    must: Array<Field>,
  }
  export interface Hit {
    id: string,
    score: number,
    metadata: Array<Field>,
  }
}
