export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export function get<T = Json>(key: string, fallback?: T): T | undefined;
export function put(key: string, value: Json): void;
export function remove(key: string): boolean;
export function keys(prefix?: string): string[];
export function compareAndSwap(key: string, expected: Json | undefined, next: Json | undefined): boolean;
export function update<T = Json>(key: string, change: (current: T) => T | undefined, fallback?: T, attempts?: number): T | undefined;
