export function publish(topic: string, key: string, payload: Uint8Array): void;
export function publishJson(topic: string, key: string, value: unknown): void;
