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
mod engine;
pub mod machine;
pub mod recorder;
pub mod report;
pub mod scenario;
mod sync;
pub mod watchdog;

pub use backend::{Backend, BackendError, Session};
pub use engine::check::{Violation, ViolationKind};
pub use engine::command::{Command, EngineError, EngineOptions};
pub use engine::control::ThreadState;
pub use engine::mix::scale as scale_draw;
pub use engine::rng::{thread_stream, SplitMix64};
pub use engine::sampler::{
    BackendSample, GarbageSample, LineHeat, OpSample, PhaseInfo, Sample, Sampler, SamplerOptions,
    ThreadSample,
};
pub use engine::stall::{PinHoldSample, MAX_PIN_HOLD};
pub use engine::stats::{LatencySummary, HEAT_MAX_CELLS};
pub use engine::timer::{measure_read_cost, Clock, TimeSource, TimingInfo};
pub use engine::{run_headless, run_headless_recorded, Engine, EngineMonitor};
pub use engine::{FINAL_SNAPSHOT_MAX_CAPACITY, RAMP_STEP, WORKER_THREAD_PREFIX};
pub use report::Report;
pub use scenario::spec::{
    BackendKind, GroupSpec, Hiccup, KeyChoice, Mix, PhaseSpec, PinPolicy, RemoveOrder, RunSpec, StopSpec,
    TableSpec,
};
pub use slotscope_trace::{OpKind, Value};
