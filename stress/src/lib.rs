//! The workload engine of slotscope: pinned stress threads, mixes, scenarios, reports.
//!
//! - [`Engine`] runs a [`RunSpec`]: builds the table ([`backend`]), spawns pinned
//!   [`worker`]s, applies the timeline and live [`Command`]s, and ends in a [`Report`].
//! - [`Sampler`] is how a UI watches a running engine: it fills a reusable [`Sample`].
//! - [`run_headless`] is the whole run without a UI.
//!
//! Workers write only their own cache-padded counters and histograms; the sampler and the
//! control plane never make a worker wait.

pub mod backend;
pub mod check;
pub mod control;
pub mod engine;
pub mod event;
mod hosted;
pub mod machine;
pub mod mix;
pub mod pacing;
pub mod pin;
pub mod report;
pub mod rng;
mod run;
pub mod sampler;
pub mod spec;
pub mod stats;
mod timeline;
pub mod timer;
pub mod topology;
pub mod worker;

pub use backend::{Backend, BackendError, Session, Value};
pub use check::{Violation, ViolationKind};
pub use control::ThreadState;
pub use engine::{run_headless, Command, Engine, EngineError};
pub use mix::OpKind;
pub use report::Report;
pub use sampler::{Sample, Sampler, SamplerOptions};
pub use spec::{BackendKind, GroupSpec, KeyChoice, Mix, PhaseSpec, PinPolicy, RunSpec, StopSpec, TableSpec};
