//! `gradebook` (0.2, activity plugins): scores and completions for the
//! activity item an `act` is about. The host does not write the gradebook
//! (it is the assessment context's): it checks each request against what
//! the call allows and collects it as an [`Effect`]; the kernel applies the
//! effects after the call, only if it keeps the call's new learner state.
//!
//! What a call allows ([`ActivityCall`]): nothing outside `act` (render and
//! the lifecycle get `denied`); a learner's own action records for that
//! learner only; an instructor's action for any learner (the kernel checks
//! enrolment when it applies them). Points are finite, in [0, max-points],
//! max-points above 0; feedback at most 2,000 bytes; at most 100 effects a call.

use super::ServiceError;
use crate::slots::activity::Effect;
use crate::state::PluginState;

pub(crate) const MAX_EFFECTS: usize = 100;
pub(crate) const MAX_FEEDBACK_BYTES: usize = 2_000;

/// The gradebook rights of the `act` call in progress.
#[derive(Debug, Default)]
pub(crate) struct ActivityCall {
    /// The learner acting; `None` when staff act (any learner then).
    pub learner: Option<String>,
    pub effects: Vec<Effect>,
}

impl PluginState {
    fn activity_call(&mut self, learner: &str) -> Result<&mut ActivityCall, ServiceError> {
        let Some(call) = self.activity.as_mut() else {
            return Err(ServiceError::Denied("the gradebook is available only during an activity's act".into()));
        };
        if call.learner.as_deref().is_some_and(|own| own != learner) {
            return Err(ServiceError::Denied("a learner's action records for that learner only".into()));
        }
        if learner.is_empty() || learner.len() > 64 {
            return Err(ServiceError::InvalidInput("learner must be a user id".into()));
        }
        if call.effects.len() >= MAX_EFFECTS {
            return Err(ServiceError::QuotaExceeded(format!("at most {MAX_EFFECTS} gradebook changes per call")));
        }
        Ok(call)
    }

    pub(crate) fn gradebook_record_score(
        &mut self,
        learner: String,
        points: f64,
        max_points: f64,
        feedback: Option<String>,
    ) -> Result<(), ServiceError> {
        if !(max_points.is_finite() && max_points > 0.0 && max_points <= 1e6) {
            return Err(ServiceError::InvalidInput(format!(
                "max-points must be above 0 and at most 1e6, not {max_points}"
            )));
        }
        if !(points.is_finite() && (0.0..=max_points).contains(&points)) {
            return Err(ServiceError::InvalidInput(format!("points must be in [0, {max_points}], not {points}")));
        }
        if feedback.as_ref().is_some_and(|f| f.len() > MAX_FEEDBACK_BYTES) {
            return Err(ServiceError::InvalidInput(format!("feedback is at most {MAX_FEEDBACK_BYTES} bytes")));
        }
        let call = self.activity_call(&learner)?;
        call.effects.push(Effect::Score { learner, points, max_points, feedback });
        Ok(())
    }

    pub(crate) fn gradebook_mark_complete(&mut self, learner: String) -> Result<(), ServiceError> {
        let call = self.activity_call(&learner)?;
        if !call.effects.iter().any(|e| matches!(e, Effect::Complete { learner: l } if *l == learner)) {
            call.effects.push(Effect::Complete { learner });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use lectern_storage::{Store, StoreOptions};

    use super::*;
    use crate::state::Services;

    #[test]
    fn the_gradebook_records_only_what_the_act_allows() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("db"), StoreOptions::default()).unwrap();
        let mut s = super::super::kv::tests::state(&Services::open(&store).unwrap(), 0);
        // Outside an act: denied.
        assert!(matches!(s.gradebook_mark_complete("ada".into()), Err(ServiceError::Denied(_))));
        // A learner's action: that learner only; points within bounds.
        s.activity = Some(ActivityCall { learner: Some("ada".into()), effects: vec![] });
        assert!(matches!(s.gradebook_record_score("bob".into(), 1.0, 2.0, None), Err(ServiceError::Denied(_))));
        for (points, max) in [(3.0, 2.0), (-1.0, 2.0), (f64::NAN, 2.0), (1.0, 0.0), (1.0, f64::INFINITY)] {
            assert!(matches!(
                s.gradebook_record_score("ada".into(), points, max, None),
                Err(ServiceError::InvalidInput(_))
            ));
        }
        let long = Some("x".repeat(MAX_FEEDBACK_BYTES + 1));
        assert!(matches!(s.gradebook_record_score("ada".into(), 1.0, 2.0, long), Err(ServiceError::InvalidInput(_))));
        s.gradebook_record_score("ada".into(), 1.5, 2.0, Some("good".into())).unwrap();
        s.gradebook_mark_complete("ada".into()).unwrap();
        s.gradebook_mark_complete("ada".into()).unwrap();
        let effects = s.activity.take().unwrap().effects;
        assert_eq!(
            effects,
            vec![
                Effect::Score { learner: "ada".into(), points: 1.5, max_points: 2.0, feedback: Some("good".into()) },
                Effect::Complete { learner: "ada".into() },
            ],
            "a completion is recorded once"
        );
        // Staff may record for anyone, up to the per-call limit.
        s.activity = Some(ActivityCall { learner: None, effects: vec![] });
        for i in 0..MAX_EFFECTS {
            s.gradebook_mark_complete(format!("learner-{i}")).unwrap();
        }
        assert!(matches!(s.gradebook_mark_complete("one-more".into()), Err(ServiceError::QuotaExceeded(_))));
    }
}
