// Publishing on the kernel's event bus (the `events` import), on topics the
// plugin's manifest declares ([capabilities] publish).
import * as events from 'lectern:plugin/events@0.2.0';

/** Publishes raw bytes; events with the same `key` are delivered in order. */
export const publish = (topic, key, payload) => events.publish(topic, key, payload);

/** Publishes `value` as JSON. */
export const publishJson = (topic, key, value) =>
  events.publish(topic, key, new TextEncoder().encode(JSON.stringify(value)));
