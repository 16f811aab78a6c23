/// <reference path="../types/interfaces/lectern-plugin-lifecycle.d.ts" />
export function simpleLifecycle(info: {
  id: string;
  name: string;
  version: string;
  dataVersion?: number;
}): typeof import('lectern:plugin/lifecycle@0.2.0');
