/// <reference path="./interfaces/lectern-plugin-clock.d.ts" />
/// <reference path="./interfaces/lectern-plugin-content.d.ts" />
/// <reference path="./interfaces/lectern-plugin-kv.d.ts" />
/// <reference path="./interfaces/lectern-plugin-lifecycle.d.ts" />
/// <reference path="./interfaces/lectern-plugin-log.d.ts" />
/// <reference path="./interfaces/lectern-plugin-types.d.ts" />
declare module 'lectern:plugin/content-plugin@0.2.0' {
  export type * as LecternPluginClock020 from 'lectern:plugin/clock@0.2.0'; // import lectern:plugin/clock@0.2.0
  export type * as LecternPluginKv020 from 'lectern:plugin/kv@0.2.0'; // import lectern:plugin/kv@0.2.0
  export type * as LecternPluginLog020 from 'lectern:plugin/log@0.2.0'; // import lectern:plugin/log@0.2.0
  export type * as LecternPluginTypes020 from 'lectern:plugin/types@0.2.0'; // import lectern:plugin/types@0.2.0
  export * as lifecycle from 'lectern:plugin/lifecycle@0.2.0'; // export lectern:plugin/lifecycle@0.2.0
  export * as content from 'lectern:plugin/content@0.2.0'; // export lectern:plugin/content@0.2.0
}
