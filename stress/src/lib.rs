//! The workload engine of slotscope: pinned stress threads, mixes, scenarios, reports.

pub mod fail_if;
pub mod scenario;
pub mod spec;
pub mod values;

pub use spec::{BackendKind, GroupSpec, KeyChoice, Mix, PhaseSpec, PinPolicy, RunSpec, StopSpec, TableSpec};
