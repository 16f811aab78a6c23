// The `lifecycle` export every plugin has, for plugins with nothing to do at
// start, migration or events (the Rust SDK's `simple_lifecycle!`):
//
//   export const lifecycle = simpleLifecycle({ id: 'edu.example.quiz', name: 'Quiz grader', version: '0.1.0' });
//
// The id and version must match lectern.toml; the kernel checks them at activation.

/** @param {{ id: string, name: string, version: string, dataVersion?: number }} info */
export function simpleLifecycle({ id, name, version, dataVersion = 1 }) {
  return {
    info: () => ({ id, name, version, dataVersion }),
    init() {},
    migrate(fromDataVersion) {},
    onEvent(ctx, payload) {},
  };
}
