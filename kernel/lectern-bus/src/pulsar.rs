//! Apache Pulsar backend (work in progress).
