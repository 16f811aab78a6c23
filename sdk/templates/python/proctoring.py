"""{{name}}: a Lectern proctoring plugin in Python (lectern:plugin@0.2.0).

Weighted integrity scoring. Every signal kind the policy weighs is a rule
(`copy`, `focus-lost`, `ip-changed` …): each occurrence adds the kind's
weight to the attempt's risk, with the signal as evidence. Missing
heartbeats (a gap longer than twice the policy's interval, or batches that
never arrived) count under `heartbeat`. Copy and paste count only when the
policy does not allow them. At the review threshold the attempt goes to the
review queue; at the flag threshold the policy's action applies (`act`) and
`proctoring.flagged` is published once. An instructor can dismiss a rule's
flag, unlock the attempt, or clear it. The session lives in kv between
batches. Build it with `lectern plugin build`, test it with `lectern plugin
test`, package it with `lectern plugin pack`.
"""

from wit_world import exports
from wit_world.exports import proctor

from lectern_sdk import errors, events, store
from lectern_sdk.lifecycle import simple_lifecycle

Lifecycle = simple_lifecycle(id="{{id}}", name="{{name}}", version="0.1.0")

COPY_PASTE = {"copy", "paste", "paste-into-answer"}
MAX_EVIDENCE = 20  # per rule: enough for a reviewer, bounded in kv


def kind_name(kind: proctor.SignalKind) -> str:
    return kind.name.lower().replace("_", "-")


def kind_of(name: str) -> proctor.SignalKind:
    return proctor.SignalKind[name.upper().replace("-", "_")]


def key(attempt_id: str) -> str:
    return f"session/{attempt_id}"


def load(attempt_id: str) -> dict:
    session = store.get(key(attempt_id))
    if session is None:
        raise errors.not_found(f"no proctoring session for attempt {attempt_id}")
    return session


def add(session: dict, rule: str, weight: float, evidence: dict) -> None:
    r = session["rules"].setdefault(rule, {"contribution": 0.0, "evidence": [], "at_ms": evidence["at_ms"]})
    r["contribution"] += weight
    if len(r["evidence"]) < MAX_EVIDENCE:
        r["evidence"].append(evidence)


def assessment(attempt_id: str, session: dict) -> proctor.Assessment:
    flags, explanation, risk = [], [], 0.0
    for rule, r in sorted(session["rules"].items()):
        if rule in session["dismissed"] or r["contribution"] <= 0:
            continue
        risk += r["contribution"]
        n = len(r["evidence"])
        severity = (
            proctor.Severity.HIGH
            if r["contribution"] >= session["flag"]
            else proctor.Severity.MEDIUM if r["contribution"] >= session["review"] / 2 else proctor.Severity.LOW
        )
        flags.append(
            proctor.Flag(
                id=rule,
                severity=severity,
                reason=f"{rule}: {n} time{'s' if n != 1 else ''}, +{r['contribution']:.2f} risk",
                student_reason=None,
                evidence=[
                    proctor.Evidence(
                        kind=kind_of(e["kind"]), at_ms=e["at_ms"], duration_ms=e.get("duration_ms"), seq=e["seq"],
                        detail=e.get("detail"),
                    )
                    for e in r["evidence"]
                ],
                contribution=r["contribution"],
                at_ms=r["at_ms"],
            )
        )
        explanation.append(f"{rule} added {r['contribution']:.2f}")
    if risk >= session["review"]:
        explanation.append(f"risk {risk:.2f} reached the review threshold {session['review']:.2f}")
    act = risk >= session["flag"] and session["action"] in ("lock-attempt", "auto-submit") and not session["unlocked"]
    return proctor.Assessment(risk_score=risk, flags=flags, explanation=explanation, act=act)


class Proctor(exports.Proctor):
    def open_session(self, ctx, attempt_id: str, policy: proctor.Policy, started_at_ms: int) -> None:
        if policy.flag_threshold <= 0 or policy.review_threshold > policy.flag_threshold:
            raise errors.invalid_input("thresholds: 0 < review-threshold ≤ flag-threshold")
        weights = {}
        for w in policy.weights:
            if isinstance(w.target, proctor.WeightTarget_Kind):
                weights[kind_name(w.target.value)] = w.weight
            else:
                weights[w.target.value] = w.weight
        if policy.allow_copy_paste:
            weights = {k: v for k, v in weights.items() if k not in COPY_PASTE}
        store.put(
            key(attempt_id),
            {
                "weights": weights,
                "review": policy.review_threshold,
                "flag": policy.flag_threshold,
                "heartbeat_ms": policy.heartbeat_interval_ms,
                "action": policy.action.name.lower().replace("_", "-"),
                "last_seq": 0,
                "last_seen_ms": started_at_ms,
                "rules": {},
                "dismissed": [],
                "unlocked": False,
                "published": False,
            },
        )

    def ingest(self, ctx, attempt_id: str, batches: list[proctor.Batch]) -> proctor.Assessment:
        session = load(attempt_id)
        weights = session["weights"]
        for batch in batches:
            if batch.seq <= session["last_seq"]:
                continue  # delivered again: already counted
            missing = batch.seq - session["last_seq"] - 1
            gap = batch.received_at_ms - session["last_seen_ms"]
            if "heartbeat" in weights and (missing > 0 or gap > 2 * session["heartbeat_ms"] > 0):
                detail = f"{missing} batch(es) never arrived" if missing > 0 else f"no batch for {gap // 1000} s"
                evidence = {"kind": "heartbeat", "at_ms": batch.received_at_ms, "seq": batch.seq, "detail": detail}
                add(session, "heartbeat", weights["heartbeat"], evidence)
            for signal in batch.signals:
                name = kind_name(signal.kind)
                if name in weights and name != "heartbeat":
                    evidence = {"kind": name, "at_ms": signal.at_ms, "duration_ms": signal.duration_ms,
                                "seq": batch.seq, "detail": signal.detail}
                    add(session, name, weights[name], evidence)
            session["last_seq"], session["last_seen_ms"] = batch.seq, batch.received_at_ms
        result = assessment(attempt_id, session)
        if result.risk_score >= session["flag"] and not session["published"]:
            session["published"] = True
            events.publish_json("proctoring.flagged", attempt_id, {"attempt": attempt_id, "risk": result.risk_score})
        store.put(key(attempt_id), session)
        return result

    def close_session(self, ctx, attempt_id: str, ended_at_ms: int) -> proctor.Assessment:
        return assessment(attempt_id, load(attempt_id))

    def decide(self, ctx, attempt_id: str, decision) -> proctor.Assessment:
        session = load(attempt_id)
        if isinstance(decision, proctor.Decision_Dismiss):
            if decision.value not in session["rules"]:
                raise errors.not_found(f"no flag `{decision.value}` on attempt {attempt_id}")
            session["dismissed"] = sorted(set(session["dismissed"]) | {decision.value})
        elif isinstance(decision, proctor.Decision_Unlock):
            session["unlocked"] = True
        store.put(key(attempt_id), session)
        return assessment(attempt_id, session)

    def drop_session(self, ctx, attempt_id: str) -> None:
        store.delete(key(attempt_id))
