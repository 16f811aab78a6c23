//! What other contexts read of course content, without authorization (the
//! calling context has authorized its own operation).

use crate::Content;
use crate::error::CoreError;
use crate::ids::{CourseId, InstitutionId};

use super::{Body, Outline, Page, item_key};

impl Content {
    /// The stored page of an outline item (its Markdown source and rendering).
    pub fn page_record(&self, inst: InstitutionId, course: CourseId, item: &str) -> Result<Option<Page>, CoreError> {
        Ok(self.t().pages.get(item_key(inst, course, item))?)
    }

    /// What a completion rule's validation needs of the course's outline:
    /// each item's id, kind, the assessment it embeds, and whether it is
    /// graded under its own id (activities of a kind that reports scores).
    pub fn outline_refs(
        &self,
        inst: InstitutionId,
        course: CourseId,
    ) -> Result<Vec<lectern_assessment::completion::OutlineItemRef>, CoreError> {
        let kinds = self.host().activity_kinds(&inst.to_string());
        Ok(self
            .load_outline(inst, course)?
            .items()
            .map(|item| lectern_assessment::completion::OutlineItemRef {
                id: item.id.clone(),
                kind: format!("{:?}", item.kind).to_lowercase(),
                assessment: match &item.body {
                    Body::Assessment { assessment } => Some(assessment.clone()),
                    _ => None,
                },
                graded: match &item.body {
                    Body::Activity { plugin, kind, .. } => {
                        kinds.iter().any(|k| k.plugin == *plugin && k.info.id == *kind && k.info.graded)
                    }
                    _ => false,
                },
            })
            .collect())
    }

    /// Every course's outline, in key order (the tutor's start-up catch-up).
    pub fn all_outlines(&self) -> Result<Vec<(InstitutionId, CourseId, Outline)>, CoreError> {
        let mut out = vec![];
        for row in self.t().outlines.scan_prefix([]) {
            let (key, outline) = row?;
            if let (Some(inst), Some(course)) =
                (key.get(..16).and_then(InstitutionId::from_slice), key.get(16..32).and_then(CourseId::from_slice))
            {
                out.push((inst, course, outline));
            }
        }
        Ok(out)
    }
}
