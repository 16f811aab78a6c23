export type Fields = Record<string, string | number | boolean>;
export function trace(message: string, fields?: Fields): void;
export function debug(message: string, fields?: Fields): void;
export function info(message: string, fields?: Fields): void;
export function warn(message: string, fields?: Fields): void;
export function error(message: string, fields?: Fields): void;
