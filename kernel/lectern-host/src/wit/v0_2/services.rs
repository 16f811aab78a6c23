//! The 0.2 `Host` traits of the kernel services: convert, delegate to the
//! version-free implementation in `crate::services`, convert back. No rule
//! lives here.

use super::lectern::plugin::{clock, embed, events, gradebook, kv, log, settings, types, vector};
use crate::services::{self as s, ServiceError};
use crate::state::PluginState;

super::super::shared::same_services!();

impl settings::Host for PluginState {
    fn get(&mut self) -> String {
        self.settings_get()
    }
}

impl gradebook::Host for PluginState {
    fn record_score(&mut self, score: gradebook::Score) -> Result<(), types::Error> {
        Ok(self.gradebook_record_score(score.learner, score.points, score.max_points, score.feedback)?)
    }

    fn mark_complete(&mut self, learner: String) -> Result<(), types::Error> {
        Ok(self.gradebook_mark_complete(learner)?)
    }
}

super::super::shared::vector_service! {
    fn list_collections(&mut self) -> Result<Vec<vector::CollectionSpec>, types::Error> {
        Ok(self
            .vector_list_collections()?
            .into_iter()
            .map(|c| vector::CollectionSpec {
                name: c.name,
                dimension: c.dimension,
                distance: match c.distance {
                    s::Distance::Cosine => vector::Distance::Cosine,
                    s::Distance::Dot => vector::Distance::Dot,
                    s::Distance::Euclidean => vector::Distance::Euclidean,
                },
            })
            .collect())
    }

    fn drop_collection(&mut self, name: String) -> Result<bool, types::Error> {
        Ok(self.vector_drop_collection(&name)?)
    }
}
