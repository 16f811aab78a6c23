/// <reference path="../types/interfaces/lectern-plugin-types.d.ts" />
type WitError = import('lectern:plugin/types@0.2.0').Error;
export class LecternError extends Error {
  constructor(tag: WitError['tag'], message: string);
  readonly payload: WitError;
}
export function invalidInput(message: string): LecternError;
export function notFound(message: string): LecternError;
export function denied(message: string): LecternError;
export function conflict(message: string): LecternError;
export function quotaExceeded(message: string): LecternError;
export function unavailable(message: string): LecternError;
export function internal(message: string): LecternError;
export function message(e: unknown): string;
