//! The HNSW graph (hnsw_rs) behind a panic-proof wrapper.
//!
//! Every call into hnsw_rs runs under `catch_unwind`: it asserts and unwraps
//! on conditions we cannot fully rule out from outside (a corrupt dump, a
//! poisoned internal invariant), and a panic must never take the kernel down.
//! Parameters are validated before `Hnsw::new`, which calls
//! `std::process::exit` on too many connections; dump files are checksummed
//! before loading, because a short data file makes the loader call
//! `std::process::exit` too.
//!
//! Reload lifetimes: `HnswIo::load_hnsw_with_dist(&'a self) -> Hnsw<'b, ..>`
//! with `'a: 'b`. Without mmap (our case) every point owns its data and the
//! borrow is only nominal, but the type system cannot know that. Leaking the
//! loader (`Box::leak`) would cost memory on every reload, so [`Loaded`] owns
//! the loader and the graph together (a `self_cell`), and both are freed when
//! the graph is swapped out or the collection is dropped.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use hnsw_rs::api::AnnT;
use hnsw_rs::hnsw::{FilterT, Hnsw};
use hnsw_rs::hnswio::HnswIo;

use crate::distance::QDist;
use crate::types::Params;

pub(crate) type Hnsw8<'a> = Hnsw<'a, i8, QDist>;

self_cell::self_cell!(
    pub(crate) struct Loaded {
        owner: HnswIo,
        #[not_covariant]
        dependent: Hnsw8,
    }
);

pub(crate) enum Graph {
    Built(Hnsw8<'static>),
    Loaded(Loaded),
}

/// Maximum layers (hnsw_rs caps at 16).
const MAX_LAYERS: usize = 16;
/// Batches at least this large are inserted with hnsw_rs' rayon-parallel insert.
const PARALLEL_BATCH: usize = 64;

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "hnsw_rs panicked".into())
}

impl Graph {
    /// An empty graph. `params` must have been validated (m ≤ 64).
    pub(crate) fn new(params: &Params, dist: QDist, capacity_hint: usize) -> Result<Graph, String> {
        if params.m < 2 || params.m > crate::types::MAX_M {
            return Err(format!("m = {} is out of range", params.m));
        }
        let hint = capacity_hint.max(1024).min(params.max_points);
        let (m, efc) = (params.m, params.ef_construction);
        catch_unwind(|| Graph::Built(Hnsw::new(m, hint, MAX_LAYERS, efc, dist))).map_err(panic_message)
    }

    pub(crate) fn with<R>(&self, f: impl for<'x> FnOnce(&Hnsw8<'x>) -> R) -> R {
        match self {
            Graph::Built(h) => f(h),
            Graph::Loaded(l) => l.with_dependent(|_, h| f(h)),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.with(|h| h.get_nb_point())
    }

    /// Inserts `(vector, internal id)` pairs.
    pub(crate) fn insert(&self, items: &[(&[i8], usize)]) -> Result<(), String> {
        catch_unwind(AssertUnwindSafe(|| {
            self.with(|h| {
                if items.len() >= PARALLEL_BATCH {
                    h.parallel_insert_slice(&items.to_vec());
                } else {
                    for &(v, id) in items {
                        h.insert_slice((v, id));
                    }
                }
            })
        }))
        .map_err(panic_message)
    }

    /// Up to `knbn` nearest internal ids with their graph distance.
    pub(crate) fn search(
        &self,
        q: &[i8],
        knbn: usize,
        ef: usize,
        filter: Option<&dyn FilterT>,
    ) -> Result<Vec<(usize, f32)>, String> {
        catch_unwind(AssertUnwindSafe(|| {
            self.with(|h| h.search_filter(q, knbn, ef, filter).into_iter().map(|n| (n.d_id, n.distance)).collect())
        }))
        .map_err(panic_message)
    }

    /// Writes `<basename>.hnsw.graph` and `.hnsw.data` into `dir`; returns the
    /// basename hnsw_rs actually used (it invents a new one rather than
    /// overwrite a file a reloaded graph might map).
    pub(crate) fn dump(&self, dir: &Path, basename: &str) -> Result<String, String> {
        catch_unwind(AssertUnwindSafe(|| self.with(|h| h.file_dump(dir, basename))))
            .map_err(panic_message)?
            .map_err(|e| e.to_string())
    }

    /// Loads a dump. The caller has verified the files' checksums.
    pub(crate) fn load(dir: &Path, basename: &str, dist: QDist) -> Result<Graph, String> {
        let io = HnswIo::new(dir, basename);
        let loaded = catch_unwind(AssertUnwindSafe(|| {
            Loaded::try_new(io, |io| {
                let mut h: Hnsw8<'_> = io.load_hnsw_with_dist(dist).map_err(|e| e.to_string())?;
                // The loader turns this on; fresh graphs have it off and inserts after a
                // reload should behave like inserts before it.
                h.set_extend_candidates(false);
                Ok::<_, String>(h)
            })
        }))
        .map_err(panic_message)??;
        Ok(Graph::Loaded(loaded))
    }
}
