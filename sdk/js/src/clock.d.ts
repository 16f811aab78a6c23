export function nowMs(): number;
