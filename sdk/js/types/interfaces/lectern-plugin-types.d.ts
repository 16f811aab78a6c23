declare module 'lectern:plugin/types@0.2.0' {
  /**
   * A kernel identifier (a UUID in its hyphenated text form).
   */
  export type Id = string;
  /**
   * A JSON document as UTF-8 text. Where the plugin declared a JSON Schema
   * for it (activity settings, question settings, responses), the kernel has
   * validated it against that schema before the call.
   */
  export type Json = string;
  /**
   * Who a call is made for. Plugins never choose their tenant: the kernel
   * scopes every service call to `institution`.
   */
  export interface Context {
    institution: Id,
    /**
     * Absent for platform-level and background calls.
     */
    user?: Id,
    course?: Id,
    /**
     * The course item the call is about (an activity, an assessment), if any.
     */
    item?: Id,
    /**
     * The caller's roles in this context, e.g. `student`, `instructor`, `admin`.
     */
    roles: Array<string>,
    /**
     * BCP 47 language tag for messages shown to people, e.g. `en-GB`.
     */
    locale: string,
    /**
     * Correlates the call with the kernel's logs.
     */
    requestId: string,
  }
  /**
   * What a delivered event is about (0.1's `on-event` had none of this).
   */
  export interface EventContext {
    institution: Id,
    /**
     * Who caused it; absent for the system (a deadline, a background job).
     */
    actor?: Id,
    course?: Id,
    topic: string,
    /**
     * The bus message id. Delivery is at least once: the same id may come
     * again after a crash or a failed call, and should change nothing then.
     */
    messageId: string,
    /**
     * When the event happened, milliseconds since the Unix epoch.
     */
    occurredAtMs: bigint,
    /**
     * BCP 47 language tag of the institution, for messages built from the event.
     */
    locale: string,
  }
  /**
   * Every failure a plugin or a kernel service reports to the other side.
   */
  export type Error = ErrorInvalidInput | ErrorNotFound | ErrorDenied | ErrorConflict | ErrorQuotaExceeded | ErrorUnavailable | ErrorInternal;
  /**
   * The input is malformed or violates a rule; the message says which.
   */
  export interface ErrorInvalidInput {
    tag: 'invalid-input',
    val: string,
  }
  export interface ErrorNotFound {
    tag: 'not-found',
    val: string,
  }
  /**
   * The capability was not granted, or the resource is outside the plugin's scope.
   */
  export interface ErrorDenied {
    tag: 'denied',
    val: string,
  }
  export interface ErrorConflict {
    tag: 'conflict',
    val: string,
  }
  /**
   * A quota (key size, value size, stored bytes, batch size) would be exceeded.
   */
  export interface ErrorQuotaExceeded {
    tag: 'quota-exceeded',
    val: string,
  }
  /**
   * A kernel service is temporarily unavailable; retrying later may succeed.
   */
  export interface ErrorUnavailable {
    tag: 'unavailable',
    val: string,
  }
  export interface ErrorInternal {
    tag: 'internal',
    val: string,
  }
  /**
   * A structured log or metadata field.
   */
  export interface Field {
    key: string,
    value: string,
  }
  /**
   * A fragment of HTML a plugin returns for a page. The kernel sanitises it
   * before any browser sees it (the allow-list is in wit/README.md, "Views"):
   * no scripts, no event-handler attributes, no `style` attributes, no
   * frames, forms that post only through the kernel. Interaction is
   * declarative: an element with `data-action="name"` sends that action with
   * the values of the enclosing form's fields as its JSON payload.
   */
  export interface View {
    html: string,
    /**
     * Files from the plugin's own package (`assets/` in the package) that
     * the view refers to, e.g. `flashcards.css`; served by the kernel from
     * the verified package, never fetched from elsewhere.
     */
    assets: Array<string>,
  }
}
