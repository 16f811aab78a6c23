export function get<T = Record<string, unknown>>(): T;
