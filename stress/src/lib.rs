//! The workload engine of slotscope: pinned stress threads, mixes, scenarios, reports.
//!
//! - [`Engine`] runs a [`RunSpec`]: builds the table ([`backend`]), spawns pinned
//!   [`worker`]s, applies the timeline and live [`Command`]s, and ends in a [`Report`].
//! - [`Sampler`] is how a UI watches a running engine: it fills a reusable [`Sample`].
//! - [`run_headless`] is the whole run without a UI.
//!
//! Workers write only their own cache-padded counters and histograms; the sampler and the
//! control plane never make a worker wait.
//!
//! | module | what it is |
//! |---|---|
//! | [`spec`] | `RunSpec`: the resolved run (scenario parsing lives elsewhere) |
//! | [`engine`] | the public API: start, control, stop; report assembly |
//! | `run`, `timeline`, `hosted` | the control plane, the phase conductor, worker spawning |
//! | [`worker`] | the stress loop: choices, ops, self-checks, timing, batches |
//! | [`mix`], [`rng`] | op choice from a versioned generator; the choice digest |
//! | [`pacing`], [`timer`] | open-loop schedules (corrected latency); the clock and its cost |
//! | [`stats`] | counters, latency histograms, per-line write heat, the worker's probe |
//! | [`control`] | what each worker shares: inbox, settings, deposits, start gate |
//! | [`check`] | violations and end-of-run balance checks |
//! | [`sampler`] | `Sampler` and `Sample` for the UI |
//! | [`report`] | `Report`: plain, serialisable results; `--fail-if` metrics of a run |
//! | [`report_text`] | the text report (summary and percentile spectra), for CLI and TUI |
//! | [`pin`], [`topology`], [`machine`] | core placement, cache/NUMA groups, machine facts |
//! | [`event`] | per-op events for recording (a no-op sink by default) |
//! | [`trace`] | the trace file: format, writer, reader, index |
//! | [`history`] | checking a recorded run: per-key checks, capacity, linearizability, test emission |
//! | [`reexec`] | re-executing a trace on one thread against a fresh table and a model |
//! | [`recorder`] | recording a run: per-thread rings, the writer thread, limits |
//! | [`gauge`], [`stall`] | garbage waiting for reclamation; a reader that holds its pin (lessons) |
//! | [`lesson`] | workshop lessons: files, validation, the changes each step makes |

pub mod backend;
pub mod check;
pub mod control;
pub mod engine;
pub mod event;
pub mod fail_if;
pub mod gauge;
mod hosted;
pub mod lesson;
pub mod machine;
pub mod mix;
pub mod pacing;
pub mod pin;
pub mod recorder;
pub mod report;
pub mod report_text;
pub mod rng;
mod run;
pub mod sampler;
pub mod scenario;
pub mod spec;
pub mod stall;
pub mod stats;
mod timeline;
pub mod timer;
pub mod topology;
pub mod values;
pub mod watchdog;
pub mod worker;

pub use backend::{Backend, BackendError, Session};
pub use check::{Violation, ViolationKind};
pub use control::ThreadState;
pub use engine::{
    run_headless, run_headless_recorded, Command, Engine, EngineError, EngineMonitor, EngineOptions,
};
pub use report::Report;
pub use sampler::{Sample, Sampler, SamplerOptions};
pub use slotscope_trace::{OpKind, Value};
pub use spec::{
    BackendKind, GroupSpec, Hiccup, KeyChoice, Mix, PhaseSpec, PinPolicy, RemoveOrder, RunSpec, StopSpec,
    TableSpec,
};
