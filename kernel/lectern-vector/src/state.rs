//! The in-memory side of one collection: which internal id holds which point,
//! liveness (tombstones), metadata postings, BM25, and the exact f32 vectors
//! used for re-ranking, brute force and rebuilds. Search planning lives here.

use std::collections::HashMap;

use crate::distance;
use crate::graph::Graph;
use crate::keyword::Bm25;
use crate::types::{Distance, Filter};

pub(crate) struct Slot {
    pub id: String,
    /// Sequence number of the point version this slot holds.
    pub seq: u64,
    pub live: bool,
    pub has_text: bool,
    pub meta: Vec<(String, String)>,
}

/// A point as the index takes it in: vector already [`distance::prepare`]d.
pub(crate) struct Entry {
    pub id: String,
    pub seq: u64,
    pub vector: Vec<f32>,
    pub meta: Vec<(String, String)>,
    pub has_text: bool,
    pub terms: Vec<(String, u32)>,
}

pub(crate) struct State {
    pub kind: Distance,
    pub dim: usize,
    pub slots: Vec<Slot>,
    pub vectors: Vec<f32>,
    pub by_id: HashMap<String, u32>,
    postings: HashMap<String, HashMap<String, Vec<u32>>>,
    pub bm25: Bm25,
    pub live: usize,
    pub tombstones: usize,
    pub pending: usize,
    /// Sequence number of the last change applied.
    pub seq: u64,
}

impl State {
    pub(crate) fn new(kind: Distance, dim: usize) -> State {
        State {
            kind,
            dim,
            slots: Vec::new(),
            vectors: Vec::new(),
            by_id: HashMap::new(),
            postings: HashMap::new(),
            bm25: Bm25::default(),
            live: 0,
            tombstones: 0,
            pending: 0,
            seq: 0,
        }
    }

    /// Appends `e` as a not-yet-visible slot; [`State::activate`] makes it visible
    /// once it is in the graph.
    pub(crate) fn push_pending(&mut self, e: Entry) -> u32 {
        let slot = self.slots.len() as u32;
        self.vectors.extend_from_slice(&e.vector);
        for (k, v) in &e.meta {
            self.postings.entry(k.clone()).or_default().entry(v.clone()).or_default().push(slot);
        }
        self.bm25.add(slot, &e.terms);
        self.slots.push(Slot { id: e.id, seq: e.seq, live: false, has_text: e.has_text, meta: e.meta });
        self.pending += 1;
        slot
    }

    /// A graph node whose point no longer exists (a reloaded dump's dead node).
    pub(crate) fn push_dead(&mut self) {
        let slot = self.slots.len() as u32;
        self.vectors.resize(self.vectors.len() + self.dim, 0.0);
        self.bm25.add(slot, &[]);
        self.slots.push(Slot { id: String::new(), seq: 0, live: false, has_text: false, meta: Vec::new() });
        self.tombstones += 1;
    }

    pub(crate) fn activate(&mut self, slot: u32) {
        let s = &mut self.slots[slot as usize];
        if s.live {
            return;
        }
        s.live = true;
        let id = s.id.clone();
        self.pending -= 1;
        self.live += 1;
        if let Some(old) = self.by_id.insert(id, slot) {
            self.kill(old);
        }
    }

    fn kill(&mut self, slot: u32) {
        let s = &mut self.slots[slot as usize];
        if !s.live {
            return;
        }
        s.live = false;
        s.meta = Vec::new();
        self.live -= 1;
        self.tombstones += 1;
        self.bm25.remove(slot);
    }

    pub(crate) fn delete(&mut self, id: &str) -> bool {
        match self.by_id.remove(id) {
            Some(slot) => {
                self.kill(slot);
                true
            }
            None => false,
        }
    }

    pub(crate) fn vector(&self, slot: u32) -> &[f32] {
        let s = slot as usize * self.dim;
        &self.vectors[s..s + self.dim]
    }

    /// The live point at `slot` as an [`Entry`] (to carry it into a rebuilt index).
    pub(crate) fn entry(&self, slot: u32) -> Entry {
        let s = &self.slots[slot as usize];
        Entry {
            id: s.id.clone(),
            seq: s.seq,
            vector: self.vector(slot).to_vec(),
            meta: s.meta.clone(),
            has_text: s.has_text,
            terms: self.bm25.counts(slot),
        }
    }

    pub(crate) fn visible(&self, slot: u32, filter: Option<&Filter>) -> bool {
        self.slots.get(slot as usize).is_some_and(|s| s.live && filter.is_none_or(|f| f.matches(&s.meta)))
    }

    /// An upper bound on how many points match `filter`.
    fn estimate(&self, filter: &Filter) -> usize {
        filter.clauses.iter().map(|c| self.clause_postings(c).map(|p| p.len()).sum()).min().unwrap_or(self.live)
    }

    fn clause_postings<'a>(&'a self, c: &'a crate::types::Clause) -> impl Iterator<Item = &'a Vec<u32>> + 'a {
        let values = self.postings.get(&c.key);
        c.any_of.iter().filter_map(move |v| values.and_then(|m| m.get(v)))
    }

    /// Exact top-k over the visible points matching `filter`, found through its most selective clause.
    fn brute_force(&self, q: &[f32], k: usize, filter: &Filter) -> Vec<(u32, f32)> {
        let best = filter.clauses.iter().min_by_key(|c| self.clause_postings(c).map(|p| p.len()).sum::<usize>());
        let mut slots: Vec<u32> = match best {
            Some(c) => self.clause_postings(c).flatten().copied().collect(),
            None => (0..self.slots.len() as u32).collect(),
        };
        slots.sort_unstable();
        slots.dedup();
        let scored = slots
            .into_iter()
            .filter(|&s| self.visible(s, Some(filter)))
            .map(|s| (s, distance::score(self.kind, q, self.vector(s))));
        top_k(scored.collect(), k)
    }

    /// Top-k visible points for the prepared query `q`: an exact scan when
    /// the collection is small or the filter selective enough, the graph otherwise (with liveness and the
    /// filter checked inside the graph walk), candidates re-ranked exactly.
    pub(crate) fn search(
        &self,
        graph: &Graph,
        q: &[f32],
        k: usize,
        ef: usize,
        filter: Option<&Filter>,
        tuning: &crate::Tuning,
    ) -> Vec<(u32, f32)> {
        if self.live <= tuning.exact_scan_max {
            return self.brute_force(q, k, filter.unwrap_or(&Filter::default()));
        }
        if let Some(f) = filter
            && self.estimate(f) <= tuning.brute_force_max
        {
            return self.brute_force(q, k, f);
        }
        let qq = distance::quantize(q);
        let ef = ef.max(k);
        let check = |id: &usize| self.visible(*id as u32, filter);
        // hnsw_rs' filtered walk does more work, so it is only used when something can be hidden.
        let needs_filter = filter.is_some() || self.tombstones > 0 || self.pending > 0;
        let found = graph.search(&qq, ef, ef, if needs_filter { Some(&check) } else { None });
        let candidates = match found {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "vector graph search panicked; answering by brute force");
                let all = Filter::default();
                return match filter {
                    Some(f) => self.brute_force(q, k, f),
                    None => self.brute_force(q, k, &all),
                };
            }
        };
        let scored = candidates
            .into_iter()
            .map(|(id, _)| id as u32)
            .filter(|&s| self.visible(s, filter))
            .map(|s| (s, distance::score(self.kind, q, self.vector(s))))
            .collect();
        top_k(scored, k)
    }
}

pub(crate) fn top_k(mut v: Vec<(u32, f32)>, k: usize) -> Vec<(u32, f32)> {
    let by_score = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if v.len() > k {
        v.select_nth_unstable_by(k, by_score);
        v.truncate(k);
    }
    v.sort_unstable_by(by_score);
    v
}
