//! From the command line to a validated `RunSpec`: the scenario (built-in or file), then the
//! flags that override it. Shared by the headless runner and the TUI.

use slotscope_stress::scenario::spec::TIME_EVERY_AUTO;
use slotscope_stress::scenario::values;
use slotscope_stress::scenario::{self, Overrides, ValidationContext};
use slotscope_stress::{BackendKind, PinPolicy, RunSpec, StopSpec};

use crate::cli::WorkloadArgs;
use crate::exit::Failure;

/// A run ready to start, and what is worth telling the user first.
#[derive(Debug, Clone)]
pub struct ResolvedRun {
    pub spec: RunSpec,
    /// Where the scenario came from (`scenarios/demo.toml` for a built-in, or the path).
    pub origin: String,
    /// Warnings from the scenario and the flags, rendered (empty if none).
    pub warnings: Vec<String>,
    /// The scenario as named on the command line (`demo` when none was).
    pub scenario_arg: String,
    /// The flags that overrode the scenario, parsed.
    pub overrides: Overrides,
}

/// Loads `scenario` (default: the built-in `demo`) and applies the flags. `headless` gives a
/// scenario that would run until stopped the headless default duration instead.
pub fn resolve_run(
    scenario: Option<&str>,
    args: &WorkloadArgs,
    headless: bool,
) -> Result<ResolvedRun, Failure> {
    let ctx = ValidationContext::detect();
    let loaded = scenario::resolve(scenario.unwrap_or(scenario::DEFAULT_SCENARIO), &ctx)?;
    let mut warnings = Vec::new();
    let rendered = loaded.render_warnings();
    if !rendered.is_empty() {
        warnings.push(rendered);
    }
    let mut spec = loaded.spec;
    let overrides = overrides_from(args);
    if !overrides.is_empty() {
        let problems = overrides.apply(&mut spec, &ctx).map_err(|e| Failure::usage(e.to_string()))?;
        warnings.extend(problems.iter().map(ToString::to_string));
    }
    if let Some(k) = args.time_every {
        // `auto` or 1 ..= MAX_TIME_EVERY, checked by its value parser.
        spec.time_every = k;
    }
    if headless && spec.stop == StopSpec::Forever {
        spec.stop = StopSpec::Duration(scenario::HEADLESS_DEFAULT_DURATION);
        warnings.push(format!(
            "note: scenario `{}` runs until stopped; headless runs default to {} (use -d or --ops)",
            spec.name,
            values::format_duration(scenario::HEADLESS_DEFAULT_DURATION)
        ));
    }
    let scenario_arg = scenario.unwrap_or(scenario::DEFAULT_SCENARIO).to_owned();
    Ok(ResolvedRun { spec, origin: loaded.origin, warnings, scenario_arg, overrides })
}

/// The command line that repeats `run`: the same scenario argument, the seed, and every value
/// a flag can set written out as resolved (so that a later change of a built-in's defaults
/// does not change the repeat). Group-level flags (`--mix`, `--keys`, `--rate`, `--pin`) are
/// written for single-group scenarios, and for several groups only when they were given (they
/// set every group alike); the scenario keeps everything else (its groups, phases, stale
/// shares). `headless` adds `--no-tui`.
pub fn repeat_command(subcommand: &str, run: &ResolvedRun, headless: bool) -> String {
    repeat_words(subcommand, run, headless).join(" ")
}

/// [`repeat_command`] as words (each already shell-quoted).
pub fn repeat_words(subcommand: &str, run: &ResolvedRun, headless: bool) -> Vec<String> {
    let spec = &run.spec;
    let mut words = vec!["slotscope".to_owned(), subcommand.to_owned(), shell_word(&run.scenario_arg)];
    let mut flag = |name: &str, value: String| {
        words.push(name.to_owned());
        words.push(shell_word(&value));
    };
    flag("--seed", spec.seed.to_string());
    let threads = spec.initial_threads();
    if threads > 0 {
        flag("-t", threads.to_string());
    }
    match spec.stop {
        StopSpec::Duration(d) => flag("-d", values::format_duration(d)),
        StopSpec::Ops(n) => flag("--ops", n.to_string()),
        StopSpec::Forever => {}
    }
    let t = &spec.table;
    flag("--backend", t.backend.name().to_owned());
    flag("--capacity", t.capacity.to_string());
    if t.backend == BackendKind::Slotscope {
        flag("--layout", t.layout.name().to_owned());
        flag("--line-bytes", t.line_bytes.to_string());
        if t.variant.is_broken() {
            flag("--variant", t.variant.name().to_owned());
        }
        if let Some(size) = t.allocator.magazine() {
            flag("--magazine", size.to_string());
        }
    }
    flag("--prefill", t.prefill.to_string());
    let o = &run.overrides;
    let single = match spec.groups.as_slice() {
        [g] => Some(g),
        _ => None,
    };
    if let Some(mix) = single.map(|g| g.mix).or(o.mix) {
        flag("--mix", values::format_mix(mix));
    }
    if let Some(keys) = single.map(|g| g.keys).or(o.keys) {
        flag("--keys", values::format_keys(keys));
    }
    if let Some(rate) = single.map_or(o.rate, |g| g.rate) {
        flag("-R", rate.to_string());
    }
    match single.map(|g| g.pin.clone()).or_else(|| o.pin.clone()) {
        Some(PinPolicy::Cores(c)) => flag("--cores", values::format_cores(&c)),
        Some(p) => flag("--pin", values::format_pin(&p)),
        None => {}
    }
    if spec.time_every != TIME_EVERY_AUTO {
        flag("--time-every", spec.time_every.to_string());
    }
    if headless {
        words.push("--no-tui".to_owned());
    }
    words
}

/// A note for a repeat line that cannot repeat the run as printed: the scenario came from a
/// pipe or a process substitution (`<(...)`, `/dev/fd/63`), which cannot be read again.
pub fn repeat_caveat(run: &ResolvedRun) -> Option<String> {
    let meta = std::fs::metadata(&run.scenario_arg).ok()?;
    (!meta.is_file()).then(|| {
        format!(
            "  note: the scenario was read from `{}`, which cannot be read again: to repeat the run, save the scenario to a file (the report's `spec.source` holds it as resolved) and name that file instead",
            run.scenario_arg
        )
    })
}

/// `word` as a POSIX shell reads it back: as is when it has only safe characters, else in
/// single quotes.
pub fn shell_word(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./:,=+@%".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The flags that override a scenario (clap parsed their values already).
pub fn overrides_from(args: &WorkloadArgs) -> Overrides {
    Overrides {
        threads: args.threads,
        cores: args.cores.clone(),
        pin: args.pin.clone(),
        duration: args.duration,
        ops: args.ops,
        rate: args.rate,
        seed: args.seed,
        capacity: args.capacity,
        layout: args.layout,
        backend: args.backend,
        mix: args.mix,
        keys: args.keys,
        variant: args.variant,
        line_bytes: args.line_bytes,
        prefill: args.prefill,
        allocator: args.allocator,
        magazine: args.magazine,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit;
    use slotscope_table::Layout;

    #[test]
    fn defaults_to_demo_and_bounds_headless_runs() {
        let run = resolve_run(None, &WorkloadArgs::default(), true).unwrap();
        assert_eq!(run.spec.name, "demo");
        assert_eq!(run.spec.stop, StopSpec::Duration(scenario::HEADLESS_DEFAULT_DURATION));
        let tui = resolve_run(None, &WorkloadArgs::default(), false).unwrap();
        assert_eq!(tui.spec.stop, StopSpec::Forever);
    }

    #[test]
    fn flags_override_the_scenario() {
        let args = WorkloadArgs {
            threads: Some(3),
            layout: Some(Layout::Linear),
            duration: Some(std::time::Duration::from_secs(2)),
            ..WorkloadArgs::default()
        };
        let run = resolve_run(Some("churn"), &args, true).unwrap();
        assert_eq!(run.spec.initial_threads(), 3);
        assert_eq!(run.spec.table.layout, Layout::Linear);
        assert_eq!(run.spec.stop, StopSpec::Duration(std::time::Duration::from_secs(2)));
    }

    #[test]
    fn unknown_scenarios_and_bad_files_have_their_own_codes() {
        let e = resolve_run(Some("chrun"), &WorkloadArgs::default(), true).unwrap_err();
        assert_eq!(e.code, exit::USAGE);
        assert!(e.message.contains("churn"), "{}", e.message);
        let dir = std::env::temp_dir().join(format!("slotscope-resolve-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, "[table]\ncapcity = 5\n").unwrap();
        let e = resolve_run(Some(bad.to_str().unwrap()), &WorkloadArgs::default(), true).unwrap_err();
        assert_eq!(e.code, exit::BAD_SCENARIO);
        assert!(e.message.contains("bad.toml:2:1"), "{}", e.message);
        let missing = dir.join("missing.toml");
        let e = resolve_run(Some(missing.to_str().unwrap()), &WorkloadArgs::default(), true).unwrap_err();
        assert_eq!(e.code, exit::BAD_SCENARIO);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
