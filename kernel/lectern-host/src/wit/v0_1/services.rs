//! The 0.1 `Host` traits of the kernel services: convert, delegate to the
//! version-free implementation in `crate::services`, convert back. No rule
//! lives here.

use super::lectern::plugin::{clock, embed, events, kv, log, types, vector};
use crate::services::{self as s, ServiceError};
use crate::state::PluginState;

impl From<ServiceError> for types::Error {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::InvalidInput(m) => types::Error::InvalidInput(m),
            ServiceError::NotFound(m) => types::Error::NotFound(m),
            ServiceError::Denied(m) => types::Error::Denied(m),
            ServiceError::Conflict(m) => types::Error::Conflict(m),
            ServiceError::QuotaExceeded(m) => types::Error::QuotaExceeded(m),
            ServiceError::Unavailable(m) => types::Error::Unavailable(m),
        }
    }
}

fn field(f: types::Field) -> s::Field {
    s::Field { key: f.key, value: f.value }
}

fn fields(v: Vec<types::Field>) -> Vec<s::Field> {
    v.into_iter().map(field).collect()
}

fn wit_fields(v: Vec<s::Field>) -> Vec<types::Field> {
    v.into_iter().map(|f| types::Field { key: f.key, value: f.value }).collect()
}

impl types::Host for PluginState {}

impl kv::Host for PluginState {
    fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, types::Error> {
        Ok(self.kv_get(&key)?)
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), types::Error> {
        Ok(self.kv_set(&key, &value)?)
    }

    fn delete(&mut self, key: String) -> Result<bool, types::Error> {
        Ok(self.kv_delete(&key)?)
    }

    fn list_keys(&mut self, prefix: String, after: Option<String>, limit: u32) -> Result<Vec<String>, types::Error> {
        Ok(self.kv_list_keys(&prefix, after.as_deref(), limit)?)
    }

    fn compare_and_swap(
        &mut self,
        key: String,
        expected: Option<Vec<u8>>,
        new: Option<Vec<u8>>,
    ) -> Result<bool, types::Error> {
        Ok(self.kv_compare_and_swap(&key, expected.as_deref(), new.as_deref())?)
    }
}

impl events::Host for PluginState {
    fn publish(&mut self, topic: String, key: String, payload: Vec<u8>) -> Result<(), types::Error> {
        Ok(self.events_publish(topic, key, payload)?)
    }
}

impl log::Host for PluginState {
    fn log(&mut self, level: log::Level, message: String, fields: Vec<types::Field>) {
        let level = match level {
            log::Level::Trace => s::LogLevel::Trace,
            log::Level::Debug => s::LogLevel::Debug,
            log::Level::Info => s::LogLevel::Info,
            log::Level::Warn => s::LogLevel::Warn,
            log::Level::Error => s::LogLevel::Error,
        };
        self.log_message(level, &message, &self::fields(fields));
    }
}

impl clock::Host for PluginState {
    fn now_ms(&mut self) -> u64 {
        self.clock_now_ms()
    }
}

impl vector::Host for PluginState {
    fn ensure_collection(&mut self, spec: vector::CollectionSpec) -> Result<(), types::Error> {
        let distance = match spec.distance {
            vector::Distance::Cosine => s::Distance::Cosine,
            vector::Distance::Dot => s::Distance::Dot,
            vector::Distance::Euclidean => s::Distance::Euclidean,
        };
        Ok(self.vector_ensure_collection(s::CollectionSpec { name: spec.name, dimension: spec.dimension, distance })?)
    }

    fn upsert(&mut self, collection: String, points: Vec<vector::Point>) -> Result<(), types::Error> {
        let points =
            points.into_iter().map(|p| s::Point { id: p.id, vector: p.vector, metadata: fields(p.metadata) }).collect();
        Ok(self.vector_upsert(&collection, points)?)
    }

    fn delete(&mut self, collection: String, ids: Vec<String>) -> Result<(), types::Error> {
        Ok(self.vector_delete(&collection, &ids)?)
    }

    fn query(
        &mut self,
        collection: String,
        vector: Vec<f32>,
        k: u32,
        filter: Option<vector::Filter>,
    ) -> Result<Vec<vector::Hit>, types::Error> {
        let hits = self.vector_query(&collection, &vector, k, filter.map(|f| fields(f.must)))?;
        Ok(hits
            .into_iter()
            .map(|h| vector::Hit { id: h.id, score: h.score, metadata: wit_fields(h.metadata) })
            .collect())
    }
}

impl embed::Host for PluginState {
    fn model(&mut self) -> String {
        self.embed_model()
    }

    fn dimension(&mut self) -> u32 {
        self.embed_dimension()
    }

    fn embed(&mut self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, types::Error> {
        Ok(self.embed_texts(&texts)?)
    }
}
