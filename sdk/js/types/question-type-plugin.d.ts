/// <reference path="./interfaces/lectern-plugin-lifecycle.d.ts" />
/// <reference path="./interfaces/lectern-plugin-log.d.ts" />
/// <reference path="./interfaces/lectern-plugin-question-type.d.ts" />
/// <reference path="./interfaces/lectern-plugin-types.d.ts" />
declare module 'lectern:plugin/question-type-plugin@0.2.0' {
  export type * as LecternPluginLog020 from 'lectern:plugin/log@0.2.0'; // import lectern:plugin/log@0.2.0
  export type * as LecternPluginTypes020 from 'lectern:plugin/types@0.2.0'; // import lectern:plugin/types@0.2.0
  export * as lifecycle from 'lectern:plugin/lifecycle@0.2.0'; // export lectern:plugin/lifecycle@0.2.0
  export * as questionType from 'lectern:plugin/question-type@0.2.0'; // export lectern:plugin/question-type@0.2.0
}
