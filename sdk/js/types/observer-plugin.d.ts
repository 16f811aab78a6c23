/// <reference path="./interfaces/lectern-plugin-clock.d.ts" />
/// <reference path="./interfaces/lectern-plugin-events.d.ts" />
/// <reference path="./interfaces/lectern-plugin-kv.d.ts" />
/// <reference path="./interfaces/lectern-plugin-lifecycle.d.ts" />
/// <reference path="./interfaces/lectern-plugin-log.d.ts" />
/// <reference path="./interfaces/lectern-plugin-settings.d.ts" />
/// <reference path="./interfaces/lectern-plugin-types.d.ts" />
/// <reference path="./interfaces/wasi-clocks-monotonic-clock.d.ts" />
/// <reference path="./interfaces/wasi-http-outgoing-handler.d.ts" />
/// <reference path="./interfaces/wasi-http-types.d.ts" />
/// <reference path="./interfaces/wasi-io-error.d.ts" />
/// <reference path="./interfaces/wasi-io-poll.d.ts" />
/// <reference path="./interfaces/wasi-io-streams.d.ts" />
declare module 'lectern:plugin/observer-plugin@0.2.0' {
  export type * as LecternPluginClock020 from 'lectern:plugin/clock@0.2.0'; // import lectern:plugin/clock@0.2.0
  export type * as LecternPluginEvents020 from 'lectern:plugin/events@0.2.0'; // import lectern:plugin/events@0.2.0
  export type * as LecternPluginKv020 from 'lectern:plugin/kv@0.2.0'; // import lectern:plugin/kv@0.2.0
  export type * as LecternPluginLog020 from 'lectern:plugin/log@0.2.0'; // import lectern:plugin/log@0.2.0
  export type * as LecternPluginSettings020 from 'lectern:plugin/settings@0.2.0'; // import lectern:plugin/settings@0.2.0
  export type * as LecternPluginTypes020 from 'lectern:plugin/types@0.2.0'; // import lectern:plugin/types@0.2.0
  export type * as WasiClocksMonotonicClock0212 from 'wasi:clocks/monotonic-clock@0.2.12'; // import wasi:clocks/monotonic-clock@0.2.12
  export type * as WasiHttpOutgoingHandler0212 from 'wasi:http/outgoing-handler@0.2.12'; // import wasi:http/outgoing-handler@0.2.12
  export type * as WasiHttpTypes0212 from 'wasi:http/types@0.2.12'; // import wasi:http/types@0.2.12
  export type * as WasiIoError0212 from 'wasi:io/error@0.2.12'; // import wasi:io/error@0.2.12
  export type * as WasiIoPoll0212 from 'wasi:io/poll@0.2.12'; // import wasi:io/poll@0.2.12
  export type * as WasiIoStreams0212 from 'wasi:io/streams@0.2.12'; // import wasi:io/streams@0.2.12
  export * as lifecycle from 'lectern:plugin/lifecycle@0.2.0'; // export lectern:plugin/lifecycle@0.2.0
}
