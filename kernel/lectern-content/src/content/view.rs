//! The learner's side: what a student sees (the content plugin decides, on
//! every read), opening items, completing them, course progress and where to
//! continue.

use std::collections::HashMap;

use lectern_storage::Record;
use serde::{Deserialize, Serialize};

use super::{Body, Completion, Heading, Item, ItemKind, Outline, item_key};
use crate::authz::{Capability, Context, authorize};
use crate::error::CoreError;
use crate::ids::{CourseId, InstitutionId, UserId};
use crate::{Content, Principal};
use lectern_domain::model::CourseRole;

/// One learner's record of one item.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ItemState {
    pub first_viewed_at: Option<i64>,
    pub last_viewed_at: Option<i64>,
    /// Set when the student marks a `manual` item complete.
    pub marked_complete_at: Option<i64>,
    /// Set when an activity's plugin reports the learner complete
    /// (what a `reported` completion rule reads).
    pub reported_complete_at: Option<i64>,
}

impl Record for ItemState {
    const VERSION: u8 = 2;

    fn upgrade(version: u8, body: &[u8]) -> Result<Self, String> {
        if version != 1 {
            return Err(format!("no upgrade path from version {version}"));
        }
        // Version 1 had no `reported_complete_at` (postcard is positional).
        let (first_viewed_at, last_viewed_at, marked_complete_at): (Option<i64>, Option<i64>, Option<i64>) =
            lectern_storage::decode_body(body)?;
        Ok(ItemState { first_viewed_at, last_viewed_at, marked_complete_at, reported_complete_at: None })
    }
}

/// The item a learner opened last in a course. Not the resume point: that is
/// the next item to do (see [`CourseProgress::resume`]), and the item opened
/// last is usually done — opening completes `viewed` items.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Resume {
    pub item: String,
    pub at: i64,
}

impl Record for Resume {
    const VERSION: u8 = 1;
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StudentItem {
    pub id: String,
    pub kind: ItemKind,
    pub title: String,
    /// Visible but not open yet: `reason` says what is missing.
    pub locked: bool,
    pub reason: Option<String>,
    pub completed: bool,
    /// The gradebook score as a fraction, for graded items.
    pub score: Option<f64>,
    /// When it is (or was) released: the later of the item's and its module's date.
    pub release_at: Option<i64>,
    /// How it counts as completed (`Manual`: the student marks it).
    pub completion: Completion,
    /// Assessment items: the assessment they open.
    pub assessment: Option<String>,
}

/// An item the student cannot see yet because its release date is ahead:
/// its title and when it opens, so the outline can say what is coming.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UpcomingItem {
    pub module: String,
    pub title: String,
    pub kind: ItemKind,
    pub release_at: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StudentModule {
    pub id: String,
    pub title: String,
    pub items: Vec<StudentItem>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CourseProgress {
    pub completed: usize,
    /// Every item of the course counts, released or not, so the percentage
    /// only grows as the student works.
    pub total: usize,
    pub percent: f64,
    /// The next item to do: the first item, in outline order, that is open
    /// to the student and not completed (a page read, a `manual` item marked,
    /// an assessment scored as its rule asks); `None` when there is none.
    pub resume: Option<String>,
}

/// The course as one learner sees it now.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StudentOutline {
    pub modules: Vec<StudentModule>,
    pub progress: CourseProgress,
    /// Hidden items with a release date ahead, soonest first.
    pub upcoming: Vec<UpcomingItem>,
}

/// An opened item.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ItemDetail {
    pub item: Item,
    pub module: String,
    /// For pages: the rendering (not the source).
    pub html: Option<String>,
    pub toc: Vec<Heading>,
    pub html_sha256: Option<String>,
    pub completed: bool,
    /// For videos: their caption tracks.
    pub captions: Vec<super::captions::CaptionTrack>,
}

fn learner_key(i: InstitutionId, c: CourseId, u: UserId) -> Vec<u8> {
    [i.bytes().as_slice(), c.bytes(), u.bytes()].concat()
}

pub(super) fn state_key(i: InstitutionId, c: CourseId, u: UserId, item: &str) -> Vec<u8> {
    [i.bytes().as_slice(), c.bytes(), u.bytes(), item.as_bytes()].concat()
}

/// The gradebook item an item's score is read from.
fn grade_item(item: &Item) -> &str {
    match &item.body {
        Body::Assessment { assessment } => assessment,
        _ => &item.id,
    }
}

/// An item the caller may open now.
pub(super) struct Openable {
    pub module: String,
    pub item: Item,
    pub staff: bool,
    pub learner: Learner,
}

/// What the kernel knows of one learner, and what the plugin made of it.
pub(super) struct Learner {
    states: HashMap<String, ItemState>,
    scores: HashMap<String, f64>,
    /// item → (visible, locked, reason)
    visibility: HashMap<String, (bool, bool, Option<String>)>,
    resume: Option<Resume>,
}

impl Learner {
    fn score(&self, item: &Item) -> Option<f64> {
        self.scores.get(grade_item(item)).copied()
    }

    pub(super) fn completed(&self, item: &Item) -> bool {
        let st = self.states.get(&item.id);
        match item.completion {
            Completion::Viewed => st.is_some_and(|s| s.first_viewed_at.is_some()),
            Completion::Manual => st.is_some_and(|s| s.marked_complete_at.is_some()),
            Completion::MinScore { min } => self.score(item).is_some_and(|s| s >= min),
            Completion::Reported => st.is_some_and(|s| s.reported_complete_at.is_some()),
        }
    }

    /// Visible and not locked. Items the plugin did not answer for stay closed.
    fn open(&self, id: &str) -> bool {
        self.visibility.get(id).is_some_and(|(v, l, _)| *v && !*l)
    }
}

impl Content {
    /// Staff see everything, unlocked; everyone else goes through the plugin.
    fn is_staff(&self, p: &Principal, ctx: Context) -> bool {
        authorize(p, Capability::CourseEdit, ctx).is_ok() || authorize(p, Capability::GradeViewAll, ctx).is_ok()
    }

    async fn learner(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        user: UserId,
        outline: &Outline,
        staff: bool,
    ) -> Result<Learner, CoreError> {
        let mut states = HashMap::new();
        let prefix = learner_key(inst, course, user);
        for row in self.t().item_states.scan_prefix(&prefix) {
            let (k, v) = row?;
            if let Ok(item) = std::str::from_utf8(&k[prefix.len()..]) {
                states.insert(item.to_owned(), v);
            }
        }
        let scores = self.assessments().learner_scores(inst, course, user)?;
        let resume = self.t().resume.get(&prefix)?;
        let mut learner = Learner { states, scores, visibility: HashMap::new(), resume };
        if staff {
            learner.visibility = outline.items().map(|i| (i.id.clone(), (true, false, None))).collect();
            return Ok(learner);
        }
        let progress: Vec<lectern_host::slots::content::Progress> = outline
            .items()
            .map(|i| lectern_host::slots::content::Progress {
                item_id: i.id.clone(),
                completed: learner.completed(i),
                score: learner.score(i),
            })
            .collect();
        let modules = outline.to_wit();
        let ctx = super::call_context(p, inst, course, vec!["student".into()]);
        let now_ms = (self.now().max(0) as u64).saturating_mul(1000);
        let host = self.host().clone();
        let answer = Self::blocking(move || host.item_visibility(&ctx, &modules, &progress, now_ms))
            .await?
            .map_err(|e| super::plugin_error(e, "content"))?;
        learner.visibility = answer.into_iter().map(|v| (v.item_id, (v.visible, v.locked, v.reason))).collect();
        Ok(learner)
    }

    fn student_outline(outline: &Outline, l: &Learner, now: i64) -> StudentOutline {
        let mut modules = vec![];
        let mut upcoming = vec![];
        for m in &outline.modules {
            let items: Vec<StudentItem> = m
                .items
                .iter()
                .filter_map(|i| {
                    let (visible, locked, reason) = l.visibility.get(&i.id).cloned().unwrap_or((false, true, None));
                    let release_at = m.release_at.max(i.release_at);
                    if !visible {
                        if let Some(at) = release_at.filter(|at| *at > now) {
                            upcoming.push(UpcomingItem {
                                module: m.title.clone(),
                                title: i.title.clone(),
                                kind: i.kind,
                                release_at: at,
                            });
                        }
                        return None;
                    }
                    Some(StudentItem {
                        id: i.id.clone(),
                        kind: i.kind,
                        title: i.title.clone(),
                        locked,
                        reason,
                        completed: l.completed(i),
                        score: l.score(i),
                        release_at,
                        completion: i.completion.clone(),
                        assessment: match &i.body {
                            Body::Assessment { assessment } => Some(assessment.clone()),
                            _ => None,
                        },
                    })
                })
                .collect();
            if !items.is_empty() {
                modules.push(StudentModule { id: m.id.clone(), title: m.title.clone(), items });
            }
        }
        let total = outline.items().count();
        let completed = outline.items().filter(|i| l.completed(i)).count();
        let percent = if total == 0 { 0.0 } else { (completed as f64 * 1000.0 / total as f64).round() / 10.0 };
        let resume = outline.items().find(|i| l.open(&i.id) && !l.completed(i)).map(|i| i.id.clone());
        upcoming.sort_by_key(|u| u.release_at);
        StudentOutline { modules, progress: CourseProgress { completed, total, percent, resume }, upcoming }
    }

    /// Items `p` may open now (released, unlocked): what the tutor may quote
    /// to them. `None` for staff, who may open everything.
    pub async fn openable_items(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
    ) -> Result<Option<Vec<String>>, CoreError> {
        let (_, ctx) = self.identity().course_context(p, inst, course)?;
        authorize(p, Capability::CourseView, ctx)?;
        if self.is_staff(p, ctx) {
            return Ok(None);
        }
        let outline = self.load_outline(inst, course)?;
        let user = p.user_id().unwrap_or_default();
        let l = self.learner(p, inst, course, user, &outline, false).await?;
        Ok(Some(outline.items().filter(|i| l.open(&i.id)).map(|i| i.id.clone()).collect()))
    }

    /// The course's content as the caller sees it: released items, locks with
    /// reasons, completion, progress and where to continue. Staff see everything.
    pub async fn learner_outline(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
    ) -> Result<StudentOutline, CoreError> {
        let (_, ctx) = self.identity().course_context(p, inst, course)?;
        authorize(p, Capability::CourseView, ctx)?;
        let outline = self.load_outline(inst, course)?;
        let user = p.user_id().unwrap_or_default();
        let l = self.learner(p, inst, course, user, &outline, self.is_staff(p, ctx)).await?;
        Ok(Self::student_outline(&outline, &l, self.now()))
    }

    /// A student's view and progress, for the course's staff.
    pub async fn student_progress(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        student: UserId,
    ) -> Result<StudentOutline, CoreError> {
        let (_, ctx) = self.identity().course_context(p, inst, course)?;
        authorize(p, Capability::GradeViewAll, ctx)?;
        let role = self.identity().enrolment_role(inst, course, student)?;
        if role != Some(CourseRole::Student) {
            return Err(CoreError::NotFound("student in this course"));
        }
        let outline = self.load_outline(inst, course)?;
        let as_student =
            Principal { kind: crate::authz::PrincipalKind::User { user: student, session: None }, ..p.clone() };
        let l = self.learner(&as_student, inst, course, student, &outline, false).await?;
        Ok(Self::student_outline(&outline, &l, self.now()))
    }

    /// An item `p` may open now (staff: any), with what the kernel knows of
    /// them: 404 while hidden, 403 with the reason while locked.
    pub(super) async fn openable(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        item_id: &str,
    ) -> Result<Openable, CoreError> {
        let (_, ctx) = self.identity().course_context(p, inst, course)?;
        authorize(p, Capability::CourseView, ctx)?;
        let outline = self.load_outline(inst, course)?;
        let (module, item) = outline
            .modules
            .iter()
            .find_map(|m| m.items.iter().find(|i| i.id == item_id).map(|i| (m.id.clone(), i.clone())))
            .ok_or(CoreError::NotFound("item"))?;
        let staff = self.is_staff(p, ctx);
        let learner = self.learner(p, inst, course, p.user_id().unwrap_or_default(), &outline, staff).await?;
        match learner.visibility.get(item_id) {
            Some((true, false, _)) => {}
            Some((true, true, reason)) => {
                return Err(CoreError::Forbidden(format!(
                    "this item is locked: {}",
                    reason.as_deref().unwrap_or("a prerequisite is not met")
                )));
            }
            _ => return Err(CoreError::NotFound("item")),
        }
        Ok(Openable { module, item, staff, learner })
    }

    /// Opens an item: refused while hidden (404) or locked (403 with the
    /// reason); records the visit, which completes `viewed` items.
    pub async fn open_item(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        item_id: &str,
    ) -> Result<ItemDetail, CoreError> {
        let Openable { module, item, staff, learner: l } = self.openable(p, inst, course, item_id).await?;
        let user = p.user_id();
        let mut completed = l.completed(&item);
        if let (Some(u), false) = (user, staff) {
            self.record_visit(inst, course, u, &l, item_id).await?;
            completed |= item.completion == Completion::Viewed;
        }
        let page =
            if item.kind == ItemKind::Page { self.t().pages.get(item_key(inst, course, item_id))? } else { None };
        let captions = if item.kind == ItemKind::Video { self.captions_of(inst, course, item_id)? } else { vec![] };
        let mut item = item;
        if let (false, Body::Activity { settings, .. }) = (staff, &mut item.body) {
            // An activity's settings may hold what the learner is to find
            // (a deck's answers): learners get the plugin's view, not them.
            *settings = "null".into();
        }
        Ok(ItemDetail {
            captions,
            module,
            html: page.as_ref().map(|pg| pg.html.clone()),
            toc: page.as_ref().map(|pg| pg.toc.clone()).unwrap_or_default(),
            html_sha256: page.map(|pg| pg.html_sha256),
            completed,
            item,
        })
    }

    async fn record_visit(
        &self,
        inst: InstitutionId,
        course: CourseId,
        user: UserId,
        l: &Learner,
        item: &str,
    ) -> Result<(), CoreError> {
        let now = self.now();
        let t = self.t();
        let skey = state_key(inst, course, user, item);
        let rkey = learner_key(inst, course, user);
        // Reading is the hot path: write only what changes what the student sees.
        let first_visit = l.states.get(item).is_none_or(|s| s.first_viewed_at.is_none());
        let moved = l.resume.as_ref().is_none_or(|r| r.item != item);
        if !first_visit && !moved {
            return Ok(());
        }
        self.store().transaction(&[&t.item_states, &t.resume], |tx| {
            let states = tx.on(&t.item_states)?;
            let mut st = states.get(&skey)?.unwrap_or_default();
            st.first_viewed_at.get_or_insert(now);
            st.last_viewed_at = Some(now);
            states.insert(&skey, &st)?;
            tx.on(&t.resume)?.insert(&rkey, &Resume { item: item.to_owned(), at: now })?;
            Ok::<_, lectern_storage::TxFail<CoreError>>(())
        })?;
        self.durable().await
    }

    /// A student marks a `manual` item complete.
    pub async fn complete_item(
        &self,
        p: &Principal,
        inst: InstitutionId,
        course: CourseId,
        item_id: &str,
    ) -> Result<StudentOutline, CoreError> {
        let (_, ctx) = self.identity().course_context(p, inst, course)?;
        authorize(p, Capability::CourseView, ctx)?;
        let Some(user) = p.user_id() else {
            return Err(CoreError::Forbidden("only a signed-in learner has progress".into()));
        };
        let outline = self.load_outline(inst, course)?;
        let item = outline.item(item_id).ok_or(CoreError::NotFound("item"))?;
        let staff = self.is_staff(p, ctx);
        let l = self.learner(p, inst, course, user, &outline, staff).await?;
        if !l.visibility.get(item_id).is_some_and(|(v, _, _)| *v) {
            return Err(CoreError::NotFound("item"));
        }
        if !l.open(item_id) {
            return Err(CoreError::Forbidden("this item is locked".into()));
        }
        if item.completion != Completion::Manual {
            return Err(CoreError::Conflict(match item.completion {
                Completion::Viewed => "this item completes when it is opened".into(),
                Completion::Reported => "this activity completes when its plugin says so".into(),
                _ => "this item completes with its score".into(),
            }));
        }
        let now = self.now();
        self.t().item_states.update(state_key(inst, course, user, item_id), |old| {
            let mut st = old.unwrap_or_default();
            st.marked_complete_at.get_or_insert(now);
            Some(st)
        })?;
        self.durable().await?;
        let l = self.learner(p, inst, course, user, &outline, staff).await?;
        Ok(Self::student_outline(&outline, &l, self.now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{Module, Prerequisite};

    #[test]
    fn a_version_1_item_state_upgrades_with_no_reported_completion() {
        // Version 1 was the first three fields, positionally.
        let v1 = (Some(10i64), Some(20i64), Some(30i64));
        let body = postcard::to_allocvec(&v1).unwrap();
        let up = ItemState::upgrade(1, &body).unwrap();
        assert_eq!(
            up,
            ItemState {
                first_viewed_at: Some(10),
                last_viewed_at: Some(20),
                marked_complete_at: Some(30),
                reported_complete_at: None
            }
        );
        assert!(ItemState::upgrade(3, &body).is_err());
    }

    fn item(id: &str, completion: Completion) -> Item {
        Item {
            id: id.into(),
            kind: ItemKind::Page,
            title: id.into(),
            prerequisites: vec![],
            release_at: None,
            completion,
            body: Body::Page { words: 1, reading_minutes: 1 },
        }
    }

    #[test]
    fn progress_counts_every_item_and_resumes_at_the_first_open_incomplete_one() {
        let mut b = item("b", Completion::Manual);
        b.prerequisites = vec![Prerequisite::Completed { item: "a".into() }];
        let outline = Outline {
            modules: vec![Module {
                id: "m".into(),
                title: "M".into(),
                release_at: None,
                items: vec![item("a", Completion::Viewed), b, item("c", Completion::Viewed)],
            }],
            ..Default::default()
        };
        let viewed = ItemState { first_viewed_at: Some(1), last_viewed_at: Some(1), ..Default::default() };
        let l = Learner {
            states: [("a".to_string(), viewed)].into(),
            scores: HashMap::new(),
            visibility: [
                ("a".to_string(), (true, false, None)),
                ("b".to_string(), (true, false, None)),
                ("c".to_string(), (false, false, Some("later".into()))),
            ]
            .into(),
            resume: Some(Resume { item: "c".into(), at: 1 }),
        };
        let v = Content::student_outline(&outline, &l, 0);
        assert_eq!(v.modules[0].items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!((v.progress.completed, v.progress.total, v.progress.percent), (1, 3, 33.3));
        // `c` is hidden now, so the resume point falls back to `b`.
        assert_eq!(v.progress.resume.as_deref(), Some("b"));
    }

    /// The resume point is the next item to do in outline order, never the
    /// item opened last (which opening usually completed): `viewed` pages
    /// complete by their visit, the quiz by its score in the gradebook (under
    /// its assessment's id).
    #[test]
    fn resume_is_the_next_item_to_do_not_the_last_one_opened() {
        let mut quiz = item("quiz", Completion::MinScore { min: 0.5 });
        quiz.kind = ItemKind::Assessment;
        quiz.body = Body::Assessment { assessment: "a-1".into() };
        let outline = Outline {
            modules: vec![Module {
                id: "m".into(),
                title: "M".into(),
                release_at: None,
                items: vec![item("p1", Completion::Viewed), item("p2", Completion::Viewed), quiz],
            }],
            ..Default::default()
        };
        let check = |viewed: &[&str], score: Option<f64>, quiz_open: bool, want: Option<&str>| {
            let seen = ItemState { first_viewed_at: Some(1), last_viewed_at: Some(1), ..Default::default() };
            let l = Learner {
                states: viewed.iter().map(|id| (id.to_string(), seen.clone())).collect(),
                scores: score.map(|s| ("a-1".to_string(), s)).into_iter().collect(),
                visibility: [("p1", true), ("p2", true), ("quiz", quiz_open)]
                    .into_iter()
                    .map(|(id, open)| (id.to_string(), (true, !open, None)))
                    .collect(),
                // The student opened p2 last.
                resume: Some(Resume { item: "p2".into(), at: 1 }),
            };
            let v = Content::student_outline(&outline, &l, 0);
            assert_eq!(v.progress.resume.as_deref(), want, "viewed {viewed:?}, score {score:?}, quiz open {quiz_open}");
        };
        check(&["p1", "p2"], None, true, Some("quiz"));
        check(&["p1", "p2"], Some(0.4), true, Some("quiz"));
        check(&["p2"], None, true, Some("p1"));
        // Everything done (100 %): nothing to resume.
        check(&["p1", "p2"], Some(0.8), true, None);
        // What is left is locked: nothing to do now.
        check(&["p1", "p2"], None, false, None);
        // Opening the quiz does not complete it; its score does.
        check(&["p1", "p2", "quiz"], None, true, Some("quiz"));
    }
}
