// Structured logging into the kernel's log, tagged with the plugin and the
// request. Fields are strings. What a plugin prints with console.log is
// dropped; use this instead.
import { log as witLog } from 'lectern:plugin/log@0.2.0';

const fields = (f) => Object.entries(f || {}).map(([key, value]) => ({ key, value: String(value) }));

export const trace = (message, f) => witLog('trace', message, fields(f));
export const debug = (message, f) => witLog('debug', message, fields(f));
export const info = (message, f) => witLog('info', message, fields(f));
export const warn = (message, f) => witLog('warn', message, fields(f));
export const error = (message, f) => witLog('error', message, fields(f));
