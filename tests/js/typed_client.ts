// A client's view of the Lectern API, typed by `openapi-typescript` from the
// server's own `/api/v1/openapi.json`. `tests/e2e/typed_client.rs` writes the
// generated `schema.d.ts` and `allowlist.ts` (from `lectern_api::free_form`)
// next to a copy of this file and compiles it with `tsc --noEmit --strict`.
//
// It fails to compile when
// - a success body used below loses a field or its type (the functions), or
//   becomes `any` (the `@ts-expect-error` lines would then be unused);
// - any 2XX body of any operation is `any`, `unknown` or an object with no
//   known property (`Record<string, never>`, `{[k: string]: unknown}`), or a
//   property of a component schema is, unless `allowlist.ts` lists it.

import type { components, paths } from "./schema";
import type { AllowedBodies, AllowedFields } from "./allowlist";

type Schemas = components["schemas"];
type Method = "get" | "put" | "post" | "delete" | "patch" | "head" | "options" | "trace";
type Success = 200 | 201 | 202 | 203 | 204 | 206 | "2XX";

/** The JSON body of `method path` answering `status`. */
type Body<P extends keyof paths, M extends Method, S extends Success> = NonNullable<paths[P][M]> extends {
  responses: infer R;
}
  ? S extends keyof R
    ? R[S] extends { content: { "application/json": infer B } }
      ? B
      : never
    : never
  : never;

// --- Free-form detection -------------------------------------------------

type IsAny<T> = 0 extends 1 & T ? true : false;
type KnownKeys<T> = keyof {
  [K in keyof T as string extends K ? never : number extends K ? never : symbol extends K ? never : K]: 0;
};
/** The value of a string index signature says nothing. */
type IndexLoose<V> = IsAny<V> extends true ? true : unknown extends V ? true : [V] extends [never] ? true : false;
/** One member of a union: an array of loose things, or an object without a known property. */
type LooseMember<T> = T extends readonly (infer E)[]
  ? Loose<E>
  : T extends object
    ? [KnownKeys<T>] extends [never]
      ? string extends keyof T
        ? IndexLoose<T[string]>
        : true
      : false
    : false;
/** `true` when `T` (or any member of it) tells a client nothing about the JSON. */
type Loose<T> = IsAny<T> extends true ? true : unknown extends T ? true : true extends LooseMember<T> ? true : false;

// The predicate itself, so this check cannot pass by being blind.
type Assert<T extends true> = T;
type Not<T extends boolean> = T extends true ? false : true;
export type SelfTest = [
  Assert<Loose<any>>,
  Assert<Loose<unknown>>,
  Assert<Loose<Record<string, never>>>,
  Assert<Loose<{ [key: string]: unknown }>>,
  Assert<Loose<{}>>,
  Assert<Loose<Record<string, never>[]>>,
  Assert<Loose<{ a: string } | Record<string, never>>>,
  Assert<Not<Loose<{ a: string }>>>,
  Assert<Not<Loose<{ a?: string | null }>>>,
  Assert<Not<Loose<Record<string, { a: number }>>>>,
  Assert<Not<Loose<{ a: string }[]>>>,
  Assert<Not<Loose<{ a: string } | { b: number }>>>,
  Assert<Not<Loose<string>>>,
  Assert<Not<Loose<"a" | "b">>>,
];

/** `method path status media-type` of every loose 2XX body. */
type LooseBodies = {
  [P in keyof paths & string]: {
    [M in Method & keyof paths[P]]: NonNullable<paths[P][M]> extends { responses: infer R }
      ? {
          [S in keyof R & Success]: R[S] extends { content: infer C }
            ? { [T in keyof C & string]: Loose<C[T]> extends true ? `${M} ${P} ${S & (string | number)} ${T}` : never }[keyof C & string]
            : never;
        }[keyof R & Success]
      : never;
  }[Method & keyof paths[P]];
}[keyof paths & string];

/** `Schema.field` of every loose property of a component schema. */
type LooseFields = {
  [N in keyof Schemas & string]: Schemas[N] extends readonly unknown[]
    ? never
    : Schemas[N] extends object
      ? {
          [F in keyof Schemas[N] & string]-?: string extends F
            ? never
            : Loose<NonNullable<Schemas[N][F]>> extends true
              ? `${N}.${F}`
              : never;
        }[keyof Schemas[N] & string]
      : never; // a string enum, a number: no fields
}[keyof Schemas & string];

// Type each with a DTO, or list it in lectern_api::free_form with why.
type Why = "free-form";
// Empty when all is well; otherwise tsc names them: "Type '{}' is missing the
// following properties from type …: "get /api/v1/… 200 application/json", …"
// (the first few; `cargo test -p lectern-api typed_responses` lists all).
export const noLooseBodies: { [K in Exclude<LooseBodies, AllowedBodies>]: Why } = {};
export const noLooseFields: { [K in Exclude<LooseFields, AllowedFields>]: Why } = {};

// --- A client using the generated types -----------------------------------

export function unreadTitles(b: Body<"/api/v1/me/notifications", "get", 200>): string[] {
  // @ts-expect-error: notifications have no `subject`; an `any` body would accept it.
  b.items[0]?.subject;
  return b.items.filter((n) => n.read_at == null).map((n) => n.title);
}

export function webhookSecret(b: Body<"/api/v1/institutions/{institution}/webhooks", "post", 201>): string {
  return `${b.id}:${b.secret}:${b.events.join(",")}:${b.created_at.toFixed(0)}`;
}

export function citedScores(b: Body<"/api/v1/institutions/{institution}/courses/{course_id}/tutor/questions", "post", 200>): string[] {
  const refusal: string | null | undefined = b.refusal;
  return b.citations.map((c) => `[${c.n}] ${c.item_title} ${c.score.toFixed(2)} ${refusal ?? ""}`);
}

export function completed(b: Body<"/api/v1/institutions/{institution}/courses/{course_id}/students/{user_id}/grades", "get", 200>): number | null {
  return b.completion?.percent ?? null;
}

export function handPoints(
  b: Body<"/api/v1/assessments/{assessment_id}/attempts/{attempt_id}/questions/{question_id}/manual-grade", "put", 200>,
): number {
  return Object.values(b.manual_grade.criteria).reduce((sum, p) => sum + p, 0) + b.grade.points;
}

export function grantedTopics(b: Body<"/api/v1/plugins", "get", 200>): string[] {
  return b.flatMap((p) => [...p.grants.publish, ...p.grants.subscribe]);
}

export function backlog(b: Body<"/api/v1/admin/bus/topics", "get", 200>): number {
  return b.topics.reduce((n, t) => n + t.subscriptions.reduce((m, s) => m + s.backlog, 0), b.outbox_pending);
}

export function statusLabel(s: Schemas["GradeStatus"]): string {
  switch (s) {
    case "graded":
      return "Graded";
    case "needs_manual_grading":
      return "Waiting for a person";
    case "grading_failed":
      return "Failed";
    default: {
      const unreachable: never = s;
      return unreachable;
    }
  }
}

export function verified(b: Body<"/api/v1/credentials/verify", "post", 200>): string[] {
  // @ts-expect-error: a verification has no `credential`.
  b.credential;
  return b.checks.filter((c) => !c.ok).map((c) => `${c.check}: ${c.detail}`);
}
