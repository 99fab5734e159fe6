//! The command line: every subcommand and flag, with its default and limits in `--help`.
//!
//! Flag values that need parsing (durations, rates, core lists, mixes, key choices, names,
//! `--fail-if` expressions, record limits) go through `slotscope_stress`'s parsers as clap
//! value parsers: a bad value is a usage error (exit 2) that names the flag and points at the
//! bad part of the value.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use slotscope_stress::recorder::{parse_record_limit, RecordLimit, DEFAULT_RECORD_LIMIT};
use slotscope_stress::report::fail_if::{parse_fail_if, FailIf};
use slotscope_stress::scenario::values::{
    parse_backend, parse_cores, parse_duration, parse_keys, parse_layout, parse_layout_pair, parse_mix,
    parse_ops, parse_pin, parse_rate, parse_threads, parse_time_every, parse_variant,
};
use slotscope_stress::{BackendKind, KeyChoice, Mix, PinPolicy};
use slotscope_table::{Allocator, Layout, Variant};

/// Watch a lock-free, cache-line-aware table (Erlang's process table design) work under
/// CPU-pinned stress threads, live in the terminal.
///
/// Without a subcommand, opens the live TUI on the built-in `demo` scenario.
#[derive(Parser, Debug)]
#[command(name = "slotscope", version, about, long_about = None, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub run: RunArgs,
}

pub const EXIT_CODES: &str = "\
Exit codes: 0 ok; 1 a self-check, `check` or `--fail-if` failed; 2 usage error;
3 bad scenario or lesson file; 4 unreadable or self-contradicting trace file; 5 output, recording
or stdout could not be written; 6 `check`/`replay --exec` incomplete (nothing found in what was
read, but the trace was cut short or damaged, dropped ops, hit its limit, or left findings or
windows undecided); 141 stdout closed; 130 after SIGINT (Ctrl-C), 143 after
SIGTERM, 129 after SIGHUP.";

/// `slotscope replay --help`: the keys, and what opening and seeking cost.
pub const REPLAY_HELP: &str = "\
Keys: Space play/pause; . , one op forward/back; > < one frame of trace time; + - speed
(1e-6x to 1000x); } { frame length (1us to 10s); g go to a time from the run's time zero
(1.5s, 200ms, -3us) or an event (#18342); Home End the trace's ends; r modelled table /
recorded scan; v the checker's first violation (--at-violation); q Ctrl-C quit (exit 0);
? help. Tab, digits, Enter, Esc, arrows/hjkl, PgUp/PgDn, =, n, m, c, s as live; zoom on z Z.

Opening reads the file once to index it; a seek restores the nearest checkpoint (every
65536 ops: CHECKPOINT_EVERY; at most 64 MiB of them: CHECKPOINT_BUDGET_BYTES) and reads on,
so memory does not grow with the trace. A truncated or damaged trace replays up to its last
whole record and says at which byte and why it stopped. Without a terminal on stdout, a
plain-text summary of the trace is printed instead (exit 0). An unreadable file, or one of an
unknown format version, exits 4 before the terminal is touched.";

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a scenario (built-in name or TOML file; default `demo`): the TUI on a terminal,
    /// headless otherwise or with --no-tui.
    Run {
        /// Built-in scenario name (see `slotscope scenarios`) or path to a scenario file.
        scenario: Option<String>,
        #[command(flatten)]
        run: RunArgs,
    },
    /// List the built-in scenarios with a one-line description each.
    Scenarios,
    /// Run one scenario against several backends in turn and print one table side by side,
    /// with ratios to the first backend; or, with --layouts, against table layouts in
    /// alternating turns, with medians and 95% intervals.
    Compare {
        /// Built-in scenario name or scenario file (default `read-heavy`; with --layouts,
        /// `false-sharing`).
        scenario: Option<String>,
        /// Backends to compare, comma-separated, first is the baseline (slotscope,
        /// slotscope-magazine: our table with magazines of --magazine ids, default 64, ptab,
        /// rwlock-hashmap, dashmap, rcu-hashmap, sharded-slab).
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "slotscope,ptab,rwlock-hashmap,dashmap",
            value_parser = crate::compare::parse_compare_backend
        )]
        backends: Vec<crate::compare::CompareBackend>,
        /// Compare our table's layouts instead (linear, interleaved, padded; first is the
        /// baseline): every layout's table is started, then they take turns of --turn each,
        /// --turns rounds after --warmup-rounds, the others paused. The scenario's stop is
        /// ignored: the turns decide how long it runs.
        #[arg(help_heading = "Layouts", long, value_delimiter = ',', value_parser = parse_layout, conflicts_with = "backends")]
        layouts: Vec<Layout>,
        #[command(flatten)]
        turns: TurnArgs,
        #[command(flatten)]
        run: CompareArgs,
    },
    /// Open a recorded trace in the TUI (pause, step, seek, speed), or re-execute it.
    #[command(after_long_help = REPLAY_HELP)]
    Replay {
        /// A trace written by `run --record FILE`.
        file: PathBuf,
        /// Re-execute the recorded ops on one thread, in recorded completion order, against a
        /// fresh table of the same shape, checking invariants after each; stop at the first
        /// divergence.
        #[arg(long)]
        exec: bool,
        /// Playback speed factor, 1e-6 to 1000 (1 = recorded speed; default: the whole trace
        /// plays in about 20 s).
        #[arg(long)]
        speed: Option<f64>,
        /// Run the checker (`slotscope check`) first and mark its first violation on the
        /// timeline; `v` goes there.
        #[arg(long, conflicts_with = "exec")]
        at_violation: bool,
        #[command(flatten)]
        look: LookArgs,
    },
    /// Check a recorded trace: per-key, capacity, end-state and linearizability checks.
    ///
    /// Per key, capacity and `Full`, the end state, and a linearizability check of each key's
    /// windows. Two ops on other threads count as ordered
    /// only when more than ε apart (ε: the clock's precision, measured when recording began).
    /// It reads the trace once and holds only what it has not decided yet; a progress line on
    /// a terminal. Exit 0 when clean (whole and nothing undecided), 1 when a violation is
    /// found, 4 for an unreadable trace, 6 when incomplete (cut short, damaged, ops dropped,
    /// a recording limit, findings missing ops could explain, unknown windows).
    Check {
        /// A trace written by `run --record FILE`.
        file: PathBuf,
        /// Write the first failing window as a self-contained Rust test into this directory.
        #[arg(long, value_name = "DIR")]
        emit_test: Option<PathBuf>,
        /// Time limit per linearizability window; past it the window's answer is "unknown".
        #[arg(long, default_value = "5s", value_parser = parse_duration)]
        window_time_limit: Duration,
        /// The `slotscope-table` crate the emitted test depends on (default: the source tree
        /// this binary was built from, or `table/` two levels above the binary, or
        /// $SLOTSCOPE_TABLE_PATH).
        #[arg(long, value_name = "DIR", requires = "emit_test")]
        table_path: Option<PathBuf>,
    },
    /// List the workshop lessons.
    Lessons,
    /// Open a workshop lesson: its scenario plus a narration panel (n/p step through it).
    Lesson {
        /// Lesson name (see `slotscope lessons`) or path to a lesson file.
        name: String,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// A list of cores (`0-3,8`); an alias, so that clap takes it as one value.
pub type CoreList = Vec<usize>;

/// What a run does: the flags that override the scenario's workload and table.
#[derive(Args, Debug, Default, Clone)]
pub struct WorkloadArgs {
    /// Worker threads (with several thread groups: shared out in proportion). Up to 1024.
    #[arg(help_heading = "Workload", short = 't', long, allow_negative_numbers = true, value_parser = parse_threads)]
    pub threads: Option<usize>,
    /// Cores to pin to, e.g. `0-3,8` (implies --pin list).
    #[arg(help_heading = "Workload", short = 'c', long, value_parser = parse_cores)]
    pub cores: Option<CoreList>,
    /// Pinning policy: none, compact, scatter (over L3/NUMA groups) or list (with --cores).
    /// Default: the scenario's (compact).
    #[arg(help_heading = "Workload", long, value_parser = parse_pin)]
    pub pin: Option<PinPolicy>,
    /// Run for this long, e.g. `10s`, `1.5m`, `500ms`. Default: the scenario's (10s headless;
    /// until quit in the TUI).
    #[arg(help_heading = "Workload", short = 'd', long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Run each thread for exactly this many operations instead of a duration
    /// (deterministic op streams).
    #[arg(help_heading = "Workload", long, allow_negative_numbers = true, value_parser = parse_ops)]
    pub ops: Option<u64>,
    /// Open loop: this many operations per second per thread (e.g. `100k`), latency measured
    /// from the intended start (coordinated-omission corrected). Default: closed loop.
    #[arg(help_heading = "Workload", short = 'R', long, allow_negative_numbers = true, value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Seed of every thread's op stream. Default: the scenario's.
    #[arg(help_heading = "Workload", long, allow_negative_numbers = true)]
    pub seed: Option<u64>,
    /// Operation mix: `lookup/insert/remove` weights (e.g. `98/1/1`) or read-heavy, exchange,
    /// churn.
    #[arg(help_heading = "Workload", long, value_parser = parse_mix)]
    pub mix: Option<Mix>,
    /// Lookup key choice: uniform, zipf:S (e.g. zipf:1.1), hot:KEYS:SHARE (e.g. hot:16:0.9).
    #[arg(help_heading = "Workload", long, value_parser = parse_keys)]
    pub keys: Option<KeyChoice>,
    /// Time one operation in this many: `auto` or 1 ..= 1048576 (1 = every op). Default: the
    /// scenario's, `auto`: k chosen at start so that the clock costs at most 2% of the loop,
    /// a power of two up to 4096, printed in the banner, the report and the repeat line.
    /// Every op is counted either way. Open-loop ops are always timed.
    #[arg(help_heading = "Workload", long, allow_negative_numbers = true, value_parser = parse_time_every)]
    pub time_every: Option<u32>,
    /// Table capacity in slots (rounded up to a power of two, 16 ..= 134217728).
    #[arg(help_heading = "Table", long, allow_negative_numbers = true)]
    pub capacity: Option<usize>,
    /// Slot layout: interleaved, linear or padded.
    #[arg(help_heading = "Table", long, value_parser = parse_layout)]
    pub layout: Option<Layout>,
    /// Cache line size the layout is built for: 64 or 128.
    #[arg(help_heading = "Table", long, allow_negative_numbers = true)]
    pub line_bytes: Option<usize>,
    /// Fraction of the capacity filled before the clock starts, 0..=1.
    #[arg(help_heading = "Table", long, allow_negative_numbers = true)]
    pub prefill: Option<f64>,
    /// Backend: slotscope, ptab, rwlock-hashmap, dashmap, rcu-hashmap, sharded-slab.
    #[arg(help_heading = "Table", long, value_parser = parse_backend)]
    pub backend: Option<BackendKind>,
    /// A broken-on-purpose variant of our table: no-generation-check or relaxed-ring.
    #[arg(help_heading = "Table", long, value_parser = parse_variant)]
    pub variant: Option<Variant>,
    /// How our table hands out free ids: ring (Erlang's shared ring, the default) or magazine
    /// (each thread keeps up to --magazine free ids of its own in front of the ring).
    #[arg(help_heading = "Table", long, value_parser = parse_allocator)]
    pub allocator: Option<Allocator>,
    /// Ids a thread's magazine holds: 2 ..= 4096 and at most a quarter of the capacity.
    /// Default: the scenario's, else 64. Implies --allocator magazine.
    #[arg(help_heading = "Table", long, allow_negative_numbers = true)]
    pub magazine: Option<u32>,
}

/// `ring` or `magazine` (the size comes from `--magazine`).
fn parse_allocator(s: &str) -> Result<Allocator, String> {
    match s {
        "ring" => Ok(Allocator::Ring),
        "magazine" => Ok(Allocator::Magazine { size: slotscope_table::DEFAULT_MAGAZINE }),
        _ => Err(format!("unknown allocator `{s}`: expected ring or magazine")),
    }
}

/// What a headless run (or `compare`) writes.
#[derive(Args, Debug, Default, Clone)]
pub struct ReportArgs {
    /// Write the report to this file instead of stdout (atomically: a temp file in the same
    /// directory, then a rename; exit 5 if it cannot be written).
    #[arg(help_heading = "Output", short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Report format (headless runs and `compare`; `compare` has no hlog).
    #[arg(help_heading = "Output", long, value_enum, default_value_t = OutputFormat::Text)]
    pub output_format: OutputFormat,
    /// Fail (exit 1) if this holds at the end. Repeatable. Metrics: p50(OP) p99(OP) p99.9(OP)
    /// mean(OP) min(OP) max(OP) (latency, needs a unit: ns us ms s), throughput[(OP)],
    /// ops[(OP)], violations, full_refusals, ticket_skips, ring_retries, stale_rejections;
    /// OP: lookup insert remove all. E.g. `p99(lookup)>2us`, `violations>0`,
    /// `throughput<1e6`. A metric the run did not measure fails too.
    #[arg(help_heading = "Output", long, value_name = "EXPR", value_parser = parse_fail_if)]
    pub fail_if: Vec<FailIf>,
    /// Text reports (headless, and the summary after the TUI) end with the full wrk2-style
    /// percentile spectrum of every timed op (off by default: one line says how to get it;
    /// json and hlog always carry the histograms).
    #[arg(help_heading = "Output", long)]
    pub spectrum: bool,
    /// Text reports print the full summary (the machine, the timing method, each thread with
    /// its op-stream digest, every warning) instead of the one-screen verdict (at most 40
    /// lines of 120 columns for up to 2 thread groups).
    #[arg(help_heading = "Output", long)]
    pub detail: bool,
}

/// Flags of `run` (and of the bare command): the workload, the report, recording, the TUI.
#[derive(Args, Debug, Default, Clone)]
pub struct RunArgs {
    #[command(flatten)]
    pub workload: WorkloadArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Run without the TUI (automatic when stdout is not a terminal).
    #[arg(help_heading = "Output", long)]
    pub no_tui: bool,
    /// Record a trace of the run into this file (see `slotscope replay` and `check`).
    #[arg(help_heading = "Recording", long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Stop recording after this size (e.g. `256MiB`, `4GiB`) or duration (e.g. `30s`); the
    /// run goes on unrecorded, and the check of such a trace says "incomplete". The trace is
    /// written beside FILE and renamed over it at the end; a second recording into FILE
    /// meanwhile is refused.
    #[arg(help_heading = "Recording", long, default_value = DEFAULT_RECORD_LIMIT, value_parser = parse_record_limit)]
    pub record_limit: RecordLimit,
    /// Drop events when a thread's 64 Ki-event buffer is full, instead of waiting for the
    /// writer (the default: a recording loses nothing, and the report says how long workers
    /// waited). Dropped ops make a check "incomplete" around them; for long soak runs where a
    /// throttled workload would not be the one you meant to watch.
    #[arg(help_heading = "Recording", long, requires = "record")]
    pub record_lossy: bool,
    /// A/B split: run two tables side by side under the same load, e.g. `linear,interleaved`.
    #[arg(help_heading = "TUI", long, value_name = "A,B", value_parser = parse_layout_pair)]
    pub compare_layout: Option<(Layout, Layout)>,
    #[command(flatten)]
    pub look: LookArgs,
}

/// Flags of `compare`: the workload and the report (it is always headless, and records
/// nothing).
#[derive(Args, Debug, Default, Clone)]
pub struct CompareArgs {
    #[command(flatten)]
    pub workload: WorkloadArgs,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// How `compare --layouts` takes turns.
#[derive(Args, Debug, Clone)]
pub struct TurnArgs {
    /// Length of one turn (with --layouts).
    #[arg(help_heading = "Layouts", long, default_value = "500ms", value_parser = parse_turn)]
    pub turn: Duration,
    /// Measured turns per layout, 5 to 1000 (with --layouts); the 95% intervals bootstrap
    /// over them.
    #[arg(help_heading = "Layouts", long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(5..=1000))]
    pub turns: u32,
    /// Rounds of turns run first and dropped, 0 to 100 (with --layouts).
    #[arg(help_heading = "Layouts", long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub warmup_rounds: u32,
}

/// A turn length: a duration from 10 ms to 60 s.
fn parse_turn(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s).map_err(|e| e.to_string())?;
    if d < Duration::from_millis(10) || d > Duration::from_secs(60) {
        return Err(format!("`{s}`: a turn lasts from 10ms to 60s"));
    }
    Ok(d)
}

/// How the TUI looks and how often it updates.
#[derive(Args, Debug, Default, Clone)]
pub struct LookArgs {
    /// Frames drawn per second (1..=60).
    #[arg(help_heading = "TUI", long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=60))]
    pub fps: u32,
    /// Samples taken per second (1..=60): counters, latency, the table snapshot.
    #[arg(help_heading = "TUI", long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=60))]
    pub sample_hz: u32,
    /// No colour (also when the NO_COLOR environment variable is set).
    #[arg(help_heading = "TUI", long)]
    pub no_color: bool,
    /// Colour theme.
    #[arg(help_heading = "TUI", long, value_enum, default_value_t = ThemeName::Dark)]
    pub theme: ThemeName,
    /// Plain ASCII glyphs, for terminals without Unicode block characters.
    #[arg(help_heading = "TUI", long)]
    pub ascii: bool,
    /// Presenter mode for projectors: large high-contrast glyphs, fewer panels.
    #[arg(help_heading = "TUI", long)]
    pub present: bool,
    /// Leave mouse capture off, so the terminal selects text (`m` still turns it on). By
    /// default the wheel scrolls the map and a click selects a line.
    #[arg(help_heading = "TUI", long)]
    pub no_mouse: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutputFormat {
    /// The one-screen verdict (`--detail`: the full summary; `--spectrum`: the wrk2-style
    /// percentile spectra after it).
    #[default]
    Text,
    /// One versioned JSON document (schema in docs/report.schema.json).
    Json,
    /// Per-interval time series, one row per interval x thread x operation.
    Csv,
    /// HdrHistogram interval log, one tag per thread x operation (values in ns).
    Hlog,
    /// One self-contained HTML page (no script, nothing fetched): the verdict and SVG charts
    /// of throughput and p99 over time, the latency spectra and per-thread throughput.
    Html,
}

#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ThemeName {
    #[default]
    Dark,
    Light,
    /// Colour-blind-safe palette.
    Cvd,
    /// No colour.
    Mono,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_flags_parse() {
        let cli = Cli::try_parse_from([
            "slotscope",
            "run",
            "churn",
            "-t",
            "4",
            "-d",
            "5s",
            "--no-tui",
            "--fail-if",
            "violations>0",
            "--fail-if",
            "p99(lookup)>2us",
        ])
        .unwrap();
        let Some(Command::Run { scenario, run }) = cli.command else { panic!("not run") };
        assert_eq!(scenario.as_deref(), Some("churn"));
        assert_eq!(run.workload.threads, Some(4));
        assert_eq!(run.workload.duration, Some(Duration::from_secs(5)));
        assert!(run.no_tui);
        assert_eq!(
            run.report.fail_if,
            [parse_fail_if("violations>0").unwrap(), parse_fail_if("p99(lookup)>2us").unwrap()]
        );
        assert_eq!(run.look.fps, 30);
        assert_eq!(run.look.sample_hz, 10);
    }

    #[test]
    fn bare_invocation_is_the_tui() {
        let cli = Cli::try_parse_from(["slotscope"]).unwrap();
        assert!(cli.command.is_none());
        assert!(!cli.run.no_tui);
    }
}
