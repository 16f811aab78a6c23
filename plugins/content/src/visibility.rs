//! `item-visibility`: what each item looks like to one student at one time.
//!
//! Two rules, applied in this order:
//! 1. Release dates hide. Before the later of its module's and its own
//!    `release-at-ms`, an item is not visible at all.
//! 2. Prerequisites lock. A released item whose prerequisites are not all met
//!    is visible (students can see what comes next) but locked.
//!
//! Everything fails closed: an unknown prerequisite, a malformed minimum
//! score or a NaN score keeps the item locked, with a reason saying why, so
//! a mistake in the course structure can never open an item early.
//! `locked` is also true for items that are not visible yet, so a host that
//! checks only `locked` before serving an item still cannot serve it early.

use std::collections::HashMap;

use lectern_sdk::v0_2::content::exports::lectern::plugin::content::{Module, Prerequisite, Progress, Visibility};

use crate::time::format_utc_minute;

/// One student's standing on one item, merged over all progress entries for
/// it (a host may send one entry per attempt): completed if any entry is,
/// and the best score of any entry.
#[derive(Default)]
struct Standing {
    completed: bool,
    best_score: Option<f64>,
}

pub fn item_visibility(modules: &[Module], progress: &[Progress], now_ms: u64) -> Vec<Visibility> {
    let mut standing: HashMap<&str, Standing> = HashMap::new();
    for p in progress {
        let s = standing.entry(p.item_id.as_str()).or_default();
        s.completed |= p.completed;
        // NaN never becomes a best score, so it can never satisfy a minimum.
        if let Some(score) = p.score.filter(|x| !x.is_nan()) {
            s.best_score = Some(s.best_score.map_or(score, |best| best.max(score)));
        }
    }
    // Titles let reasons name an item the way the student knows it. The
    // first item wins if a course (wrongly) repeats an id.
    let mut titles: HashMap<&str, &str> = HashMap::new();
    for item in modules.iter().flat_map(|m| &m.items) {
        titles.entry(item.id.as_str()).or_insert(item.title.as_str());
    }

    let mut out = Vec::new();
    for module in modules {
        for item in &module.items {
            let opens_at = module.release_at_ms.max(item.release_at_ms);
            let visibility = match opens_at {
                Some(at) if at > now_ms => Visibility {
                    item_id: item.id.clone(),
                    visible: false,
                    locked: true,
                    reason: Some(format!("opens {}", format_utc_minute(at))),
                },
                _ => {
                    let unmet: Vec<String> =
                        item.prerequisites.iter().filter_map(|p| unmet(p, &titles, &standing)).collect();
                    Visibility {
                        item_id: item.id.clone(),
                        visible: true,
                        locked: !unmet.is_empty(),
                        reason: (!unmet.is_empty()).then(|| unmet.join("; ")),
                    }
                }
            };
            out.push(visibility);
        }
    }
    out
}

/// Why `prerequisite` is not met, or `None` if it is.
fn unmet(
    prerequisite: &Prerequisite,
    titles: &HashMap<&str, &str>,
    standing: &HashMap<&str, Standing>,
) -> Option<String> {
    let id = match prerequisite {
        Prerequisite::Completed(id) | Prerequisite::ScoredAtLeast((id, _)) => id.as_str(),
    };
    // Checked before progress: a progress entry for an item that is not in
    // the course must not satisfy anything.
    let Some(title) = titles.get(id) else {
        return Some(format!("requires item `{id}`, which is not in this course (ask your instructor)"));
    };
    let s = standing.get(id);
    match prerequisite {
        Prerequisite::Completed(_) => (!s.is_some_and(|s| s.completed)).then(|| format!("complete \"{title}\" first")),
        Prerequisite::ScoredAtLeast((_, min)) => {
            if !(0.0..=1.0).contains(min) {
                // Also catches NaN, for which every comparison is false.
                return Some(format!(
                    "requires a score on \"{title}\", but the course sets an invalid minimum ({min}; expected 0 to 1)"
                ));
            }
            match s.and_then(|s| s.best_score) {
                Some(best) if best >= *min => None,
                Some(best) => {
                    Some(format!("score at least {} on \"{title}\" (best so far: {})", percent(*min), percent(best)))
                }
                None => Some(format!("score at least {} on \"{title}\" (no score yet)", percent(*min))),
            }
        }
    }
}

/// `0.8` → "80%", `0.875` → "87.5%".
fn percent(fraction: f64) -> String {
    let p = (fraction * 1000.0).round() / 10.0;
    if p.fract() == 0.0 { format!("{p:.0}%") } else { format!("{p:.1}%") }
}

#[cfg(test)]
mod tests {
    use lectern_sdk::v0_2::content::exports::lectern::plugin::content::{CompletionRule, Item, ItemKind};

    use super::*;

    const DAY: u64 = 86_400_000;
    /// 2026-12-01 09:00 UTC.
    const DEC_1_9AM: u64 = 1_796_115_600_000;

    fn item(id: &str, prerequisites: Vec<Prerequisite>, release_at_ms: Option<u64>) -> Item {
        Item {
            id: id.into(),
            kind: ItemKind::Page,
            title: format!("Title of {id}"),
            prerequisites,
            release_at_ms,
            completion: CompletionRule::Viewed,
        }
    }

    fn module(release_at_ms: Option<u64>, items: Vec<Item>) -> Module {
        Module { id: "m".into(), title: "Module".into(), items, release_at_ms }
    }

    fn done(id: &str) -> Progress {
        Progress { item_id: id.into(), completed: true, score: None }
    }

    fn scored(id: &str, score: f64) -> Progress {
        Progress { item_id: id.into(), completed: false, score: Some(score) }
    }

    /// Expected per item: (id, visible, locked, reason).
    fn check(modules: &[Module], progress: &[Progress], now: u64, expected: &[(&str, bool, bool, Option<&str>)]) {
        let got = item_visibility(modules, progress, now);
        let got: Vec<(&str, bool, bool, Option<&str>)> =
            got.iter().map(|v| (v.item_id.as_str(), v.visible, v.locked, v.reason.as_deref())).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn release_dates_of_module_and_item() {
        let modules = [
            module(Some(DEC_1_9AM), vec![item("a", vec![], None), item("b", vec![], Some(DEC_1_9AM + DAY))]),
            module(None, vec![item("c", vec![], None), item("d", vec![], Some(DEC_1_9AM))]),
        ];
        check(
            &modules,
            &[],
            DEC_1_9AM - 1,
            &[
                ("a", false, true, Some("opens 2026-12-01 09:00 UTC")),
                ("b", false, true, Some("opens 2026-12-02 09:00 UTC")),
                ("c", true, false, None),
                ("d", false, true, Some("opens 2026-12-01 09:00 UTC")),
            ],
        );
        // At the release instant the item is open (release is inclusive).
        check(
            &modules,
            &[],
            DEC_1_9AM,
            &[
                ("a", true, false, None),
                ("b", false, true, Some("opens 2026-12-02 09:00 UTC")),
                ("c", true, false, None),
                ("d", true, false, None),
            ],
        );
        // The later date wins: an item released before its module waits for the module.
        let early_item = [module(Some(DEC_1_9AM + DAY), vec![item("e", vec![], Some(DEC_1_9AM))])];
        check(&early_item, &[], DEC_1_9AM, &[("e", false, true, Some("opens 2026-12-02 09:00 UTC"))]);
    }

    #[test]
    fn completed_prerequisite() {
        let modules =
            [module(None, vec![item("a", vec![], None), item("b", vec![Prerequisite::Completed("a".into())], None)])];
        check(&modules, &[], 0, &[("a", true, false, None), ("b", true, true, Some("complete \"Title of a\" first"))]);
        check(
            &modules,
            &[scored("a", 1.0)],
            0,
            &[("a", true, false, None), ("b", true, true, Some("complete \"Title of a\" first"))],
        );
        check(&modules, &[done("a")], 0, &[("a", true, false, None), ("b", true, false, None)]);
        // Any completed entry counts, whatever the order of entries.
        let p = [done("a"), Progress { item_id: "a".into(), completed: false, score: None }];
        check(&modules, &p, 0, &[("a", true, false, None), ("b", true, false, None)]);
    }

    #[test]
    fn scored_prerequisite() {
        let modules = [module(
            None,
            vec![
                item("quiz", vec![], None),
                item("next", vec![Prerequisite::ScoredAtLeast(("quiz".into(), 0.8))], None),
            ],
        )];
        let next = |p: &[Progress]| item_visibility(&modules, p, 0)[1].clone();
        assert_eq!(next(&[]).reason.as_deref(), Some("score at least 80% on \"Title of quiz\" (no score yet)"));
        assert!(next(&[]).locked);
        let low = next(&[scored("quiz", 0.5)]);
        assert!(low.visible && low.locked);
        assert_eq!(low.reason.as_deref(), Some("score at least 80% on \"Title of quiz\" (best so far: 50%)"));
        // Exactly the minimum is enough; the best of several attempts counts.
        assert!(!next(&[scored("quiz", 0.8)]).locked);
        assert!(!next(&[scored("quiz", 0.9), scored("quiz", 0.2)]).locked);
        // Completion without a score is not a score.
        assert!(next(&[done("quiz")]).locked);
        // NaN is never a score.
        assert!(next(&[scored("quiz", f64::NAN)]).locked);
        assert!(!next(&[scored("quiz", f64::NAN), scored("quiz", 0.85)]).locked);
    }

    #[test]
    fn invalid_minimum_stays_locked() {
        for min in [f64::NAN, -0.1, 1.5, f64::INFINITY] {
            let modules = [module(
                None,
                vec![item("q", vec![], None), item("n", vec![Prerequisite::ScoredAtLeast(("q".into(), min))], None)],
            )];
            let v = &item_visibility(&modules, &[scored("q", 1.0)], 0)[1];
            assert!(v.visible && v.locked, "minimum {min}");
            assert!(v.reason.as_deref().is_some_and(|r| r.contains("invalid minimum")), "{:?}", v.reason);
        }
    }

    #[test]
    fn unknown_prerequisite_stays_locked() {
        let modules = [module(
            None,
            vec![
                item("a", vec![Prerequisite::Completed("ghost".into())], None),
                item("b", vec![Prerequisite::ScoredAtLeast(("ghost".into(), 0.0))], None),
            ],
        )];
        // Progress on the unknown id must not unlock anything.
        let progress = [done("ghost"), scored("ghost", 1.0)];
        let reason = "requires item `ghost`, which is not in this course (ask your instructor)";
        check(&modules, &progress, 0, &[("a", true, true, Some(reason)), ("b", true, true, Some(reason))]);
    }

    #[test]
    fn several_unmet_prerequisites_are_all_named_and_prerequisites_across_modules_work() {
        let modules = [
            module(None, vec![item("a", vec![], None), item("q", vec![], None)]),
            module(
                None,
                vec![item(
                    "z",
                    vec![Prerequisite::Completed("a".into()), Prerequisite::ScoredAtLeast(("q".into(), 0.875))],
                    None,
                )],
            ),
        ];
        check(
            &modules,
            &[scored("q", 0.5)],
            0,
            &[
                ("a", true, false, None),
                ("q", true, false, None),
                (
                    "z",
                    true,
                    true,
                    Some("complete \"Title of a\" first; score at least 87.5% on \"Title of q\" (best so far: 50%)"),
                ),
            ],
        );
        check(
            &modules,
            &[done("a"), scored("q", 0.9)],
            0,
            &[("a", true, false, None), ("q", true, false, None), ("z", true, false, None)],
        );
    }

    #[test]
    fn unreleased_wins_over_locked_and_empty_input_is_empty() {
        let modules = [module(None, vec![item("a", vec![Prerequisite::Completed("a".into())], Some(DEC_1_9AM))])];
        check(&modules, &[], 0, &[("a", false, true, Some("opens 2026-12-01 09:00 UTC"))]);
        check(&[], &[], 0, &[]);
    }
}
