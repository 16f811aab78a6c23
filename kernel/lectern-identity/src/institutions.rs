use lectern_storage::abort;

use crate::authz::{Capability, Context, authorize};
use crate::error::CoreError;
use crate::ids::InstitutionId;
use crate::model::{Institution, SigningKeyRecord};
use crate::paging::{Page, PageRequest};
use crate::{Identity, Principal, keys};

pub const PLATFORM_SLUG: &str = "platform";

#[derive(Clone, Debug)]
pub struct NewInstitution {
    pub slug: String,
    pub name: String,
}

pub fn validate_slug(slug: &str) -> Result<(), CoreError> {
    let ok = (2..=63).contains(&slug.len())
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if !ok {
        return Err(CoreError::invalid("slug", "must be 2–63 characters of a–z, 0–9 and inner hyphens"));
    }
    Ok(())
}

pub fn validate_name(field: &'static str, name: &str, max: usize) -> Result<String, CoreError> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(CoreError::invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(CoreError::invalid(field, format!("must be at most {max} characters")));
    }
    if trimmed.chars().any(|c| c.is_control()) {
        return Err(CoreError::invalid(field, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

impl Identity {
    /// Resolves an institution reference (its id or its slug) without
    /// authorizing anything; the operation that uses it authorizes.
    pub fn resolve_institution(&self, reference: &str) -> Result<InstitutionId, CoreError> {
        if let Ok(id) = reference.parse::<InstitutionId>() {
            return if self.t().institutions.contains(id.bytes())? {
                Ok(id)
            } else {
                Err(CoreError::NotFound("institution"))
            };
        }
        self.t().institutions_by_slug.get(reference.as_bytes())?.ok_or(CoreError::NotFound("institution"))
    }

    /// The platform institution (which holds platform administrators).
    pub fn platform_institution(&self) -> Result<InstitutionId, CoreError> {
        self.t()
            .institutions_by_slug
            .get(PLATFORM_SLUG.as_bytes())?
            .ok_or_else(|| CoreError::internal_msg("platform institution is missing"))
    }

    pub(crate) fn ensure_platform_institution(&self) -> Result<(), CoreError> {
        if self.t().institutions_by_slug.contains(PLATFORM_SLUG.as_bytes())? {
            return Ok(());
        }
        self.insert_institution(NewInstitution { slug: PLATFORM_SLUG.into(), name: "Platform".into() }, true)?;
        self.store().durable_blocking()?;
        Ok(())
    }

    fn insert_institution(&self, new: NewInstitution, platform: bool) -> Result<Institution, CoreError> {
        validate_slug(&new.slug)?;
        let name = validate_name("name", &new.name, 200)?;
        let now = self.now();
        let inst = Institution {
            id: InstitutionId::new(),
            slug: new.slug,
            name,
            platform,
            active: true,
            created_at: now,
            updated_at: now,
        };
        let key = lectern_auth::tokens::KeyPair::generate()?;
        let signing = SigningKeyRecord {
            kid: key.kid.clone(),
            institution: inst.id,
            secret: key.secret_bytes(),
            created_at: now,
            retire_at: None,
        };
        let t = self.t();
        self.store().transaction(&[&t.institutions, &t.institutions_by_slug, &t.signing_keys, &t.kid_index], |tx| {
            let by_slug = tx.on(&t.institutions_by_slug)?;
            if by_slug.get(inst.slug.as_bytes())?.is_some() {
                return abort(CoreError::Conflict(format!("an institution with slug `{}` already exists", inst.slug)));
            }
            by_slug.insert(inst.slug.as_bytes(), &inst.id)?;
            tx.on(&t.institutions)?.insert(inst.id.bytes(), &inst)?;
            tx.on(&t.signing_keys)?.insert(keys::inst_str(inst.id, &signing.kid), &signing)?;
            tx.on(&t.kid_index)?.insert(signing.kid.as_bytes(), &inst.id)?;
            Ok(())
        })?;
        Ok(inst)
    }

    /// Creates an institution with its own signing key. Platform admins only.
    pub async fn create_institution(&self, p: &Principal, new: NewInstitution) -> Result<Institution, CoreError> {
        authorize(p, Capability::PlatformManage, Context::Platform)?;
        let inst = self.insert_institution(new, false)?;
        self.durable().await?;
        tracing::info!(institution = %inst.id, slug = %inst.slug, "institution created");
        Ok(inst)
    }

    pub fn get_institution(&self, p: &Principal, id: InstitutionId) -> Result<Institution, CoreError> {
        authorize(p, Capability::InstitutionView, Context::Institution(id))?;
        self.t().institutions.get(id.bytes())?.ok_or(CoreError::NotFound("institution"))
    }

    pub fn list_institutions(&self, p: &Principal, page: &PageRequest) -> Result<Page<Institution>, CoreError> {
        authorize(p, Capability::PlatformManage, Context::Platform)?;
        let limit = page.limit()?;
        let rows = self.t().institutions.page(b"", page.after()?.as_deref(), limit)?;
        let last = rows.last().map(|(k, _)| k.clone());
        Ok(Page::from_rows(rows.into_iter().map(|(_, v)| v).collect(), last, limit))
    }

    pub async fn rename_institution(
        &self,
        p: &Principal,
        id: InstitutionId,
        name: &str,
    ) -> Result<Institution, CoreError> {
        authorize(p, Capability::InstitutionManage, Context::Institution(id))?;
        let name = validate_name("name", name, 200)?;
        let now = self.now();
        let updated = self
            .t()
            .institutions
            .update(id.bytes(), |old| {
                old.map(|mut i| {
                    i.name = name.clone();
                    i.updated_at = now;
                    i
                })
            })?
            .ok_or(CoreError::NotFound("institution"))?;
        self.durable().await?;
        Ok(updated)
    }
}
