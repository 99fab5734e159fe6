//! The workload engine of slotscope: pinned stress threads, mixes, scenarios, reports.
//!
//! - [`Engine`] runs a [`RunSpec`]: builds the table ([`backend`]), spawns pinned workers,
//!   applies the timeline and live [`Command`]s, and ends in a [`Report`].
//! - [`Sampler`] is how a UI watches a running engine: it fills a reusable [`Sample`].
//! - [`run_headless`] is the whole run without a UI.
//!
//! Workers write only their own cache-padded counters and histograms; the sampler and the
//! control plane never make a worker wait.
//!
//! | folder | what lives there |
//! |---|---|
//! | `engine/` (private; its API is re-exported here) | `Engine` and its commands, the control plane, the timeline, worker spawning and the worker loop, per-thread settings, counters and histograms, the sampler, op choice and pacing, the clock, violations, the pin holder |
//! | [`bare`] | the bare loop: the same table driven by what a caller would write, the reference for the engine's figures |
//! | [`backend`] | the tables the workers drive behind [`Backend`]: ours, ptab, the maps, sharded-slab; the garbage gauge |
//! | [`machine`] | machine facts, cache/NUMA topology, core placement |
//! | [`scenario`] | `RunSpec` and its parts, the scenario file format (loader, validation, writer), value parsers, command-line overrides |
//! | [`recorder`] | recording a run into a trace: per-thread rings, the writer thread, limits |
//! | [`report`] | `Report`: plain, serialisable results; its text form; `--fail-if` |
//! | [`watchdog`] | a hang detector for tests (see [`Engine::stop_watched`]) |
//!
//! The trace format, the checker and replay live in the `slotscope-trace` crate, which this
//! one writes traces with; the op vocabulary ([`OpKind`], [`Value`]) is defined there.
// A library prints nothing: it returns what the caller shows.
#![cfg_attr(not(test), deny(clippy::print_stdout, clippy::print_stderr))]

pub mod backend;
pub mod bare;
mod engine;
pub mod machine;
pub mod recorder;
pub mod report;
pub mod scenario;
mod sync;
pub mod watchdog;

pub use backend::{Backend, BackendError, Session};
pub use engine::calibration::{self as engine_calibration, Calibration, FALLBACK_TIME_EVERY};
pub use engine::check::{Violation, ViolationKind};
pub use engine::command::{Command, EngineError, EngineOptions};
pub use engine::control::ThreadState;
pub use engine::mix::scale as scale_draw;
pub use engine::precision::measure as measure_clock_precision;
pub use engine::rng::{thread_stream, SplitMix64};
pub use engine::sampler::{
    BackendSample, GarbageSample, GroupOpLatency, LineHeat, OpSample, PhaseInfo, Sample, Sampler,
    SamplerOptions, ThreadSample,
};
pub use engine::stall::{PinHoldSample, MAX_PIN_HOLD};
pub use engine::stats::{LatencySummary, HEAT_MAX_CELLS};
pub use engine::timer::{measure_read_cost, Clock, TimeSource, TimingInfo};
pub use engine::turns::{self, TurnFigures, TurnPlan};
pub use engine::{run_headless, run_headless_recorded, Engine, EngineMonitor, TURN_SOURCE};
pub use engine::{FINAL_SNAPSHOT_MAX_CAPACITY, RAMP_STEP, WORKER_THREAD_PREFIX};
pub use report::Report;
pub use scenario::spec::{
    BackendKind, GroupSpec, Hiccup, KeyChoice, Mix, PhaseSpec, PinPolicy, RemoveOrder, RunSpec, StopSpec,
    TableSpec,
};
pub use slotscope_trace::{OpKind, Value};
