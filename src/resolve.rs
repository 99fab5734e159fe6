//! From the command line to a validated `RunSpec`: the scenario (built-in or file), then the
//! flags that override it. Shared by the headless runner and the TUI.

use slotscope_stress::scenario::values::{self, ValueError};
use slotscope_stress::scenario::{self, LoadError, Overrides, ValidationContext, MAX_TIME_EVERY};
use slotscope_stress::{BackendKind, PinPolicy, RunSpec, StopSpec};
use slotscope_table::{Layout, Variant};

use crate::cli::RunArgs;
use crate::exit::{self, Failure};

/// A run ready to start, and what is worth telling the user first.
#[derive(Debug)]
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
pub fn resolve_run(scenario: Option<&str>, args: &RunArgs, headless: bool) -> Result<ResolvedRun, Failure> {
    let ctx = ValidationContext::detect();
    let loaded = scenario::resolve(scenario.unwrap_or(scenario::DEFAULT_SCENARIO), &ctx).map_err(|e| {
        let code = match e {
            LoadError::Unknown { .. } => exit::USAGE,
            LoadError::Io { .. } | LoadError::Invalid(_) => exit::BAD_SCENARIO,
        };
        Failure::new(code, e.to_string())
    })?;
    let mut warnings = Vec::new();
    let rendered = loaded.render_warnings();
    if !rendered.is_empty() {
        warnings.push(rendered);
    }
    let mut spec = loaded.spec;
    let overrides = overrides_from(args)?;
    if !overrides.is_empty() {
        let problems = overrides.apply(&mut spec, &ctx).map_err(|e| Failure::usage(e.to_string()))?;
        warnings.extend(problems.iter().map(ToString::to_string));
    }
    if let Some(k) = args.time_every {
        if k == 0 || k > MAX_TIME_EVERY {
            return Err(Failure::usage(format!(
                "error: invalid value for --time-every: {k} is out of range\n  hint: 1 ..= {MAX_TIME_EVERY} \
                 (1 times every operation)"
            )));
        }
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
    if spec.time_every != 1 {
        flag("--time-every", spec.time_every.to_string());
    }
    if headless {
        words.push("--no-tui".to_owned());
    }
    words
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

/// Parses every flag value, naming the flag in the error.
pub fn overrides_from(args: &RunArgs) -> Result<Overrides, Failure> {
    fn flag<T>(
        name: &str,
        value: Option<&String>,
        parse: impl Fn(&str) -> Result<T, ValueError>,
    ) -> Result<Option<T>, Failure> {
        value
            .map(|v| parse(v).map_err(|e| Failure::usage(format!("error: invalid value for {name}: {e}"))))
            .transpose()
    }
    fn named<T: std::str::FromStr>(name: &str, value: Option<&String>) -> Result<Option<T>, Failure>
    where
        T::Err: std::fmt::Display,
    {
        value
            .map(|v| {
                v.parse::<T>().map_err(|e| Failure::usage(format!("error: invalid value for {name}: {e}")))
            })
            .transpose()
    }
    let backend = args
        .backend
        .as_deref()
        .map(|b| {
            BackendKind::from_name(b).ok_or_else(|| {
                let names: Vec<&str> = BackendKind::ALL.iter().map(|k| k.name()).collect();
                let hint = values::did_you_mean(b, names.iter().copied())
                    .map_or_else(String::new, |s| format!("\n  hint: did you mean `{s}`?"));
                Failure::usage(format!(
                    "error: invalid value for --backend: unknown backend `{b}` (expected one of: {}){hint}",
                    names.join(", ")
                ))
            })
        })
        .transpose()?;
    let cores = flag("--cores", args.cores.as_ref(), values::parse_cores)?;
    let mut pin = flag("--pin", args.pin.as_ref(), values::parse_pin)?;
    if pin.is_none() {
        if let Some(c) = &cores {
            pin = Some(slotscope_stress::PinPolicy::Cores(c.clone()));
        }
    }
    Ok(Overrides {
        threads: args.threads,
        cores,
        pin,
        duration: flag("--duration", args.duration.as_ref(), values::parse_duration)?,
        ops: args.ops,
        rate: flag("--rate", args.rate.as_ref(), values::parse_rate)?,
        seed: args.seed,
        capacity: args.capacity,
        layout: named::<Layout>("--layout", args.layout.as_ref())?,
        backend,
        mix: flag("--mix", args.mix.as_ref(), values::parse_mix)?,
        keys: flag("--keys", args.keys.as_ref(), values::parse_keys)?,
        variant: named::<Variant>("--variant", args.variant.as_ref())?,
        line_bytes: args.line_bytes,
        prefill: args.prefill,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_demo_and_bounds_headless_runs() {
        let run = resolve_run(None, &RunArgs::default(), true).unwrap();
        assert_eq!(run.spec.name, "demo");
        assert_eq!(run.spec.stop, StopSpec::Duration(scenario::HEADLESS_DEFAULT_DURATION));
        let tui = resolve_run(None, &RunArgs::default(), false).unwrap();
        assert_eq!(tui.spec.stop, StopSpec::Forever);
    }

    #[test]
    fn flags_override_the_scenario() {
        let args = RunArgs {
            threads: Some(3),
            layout: Some("linear".into()),
            duration: Some("2s".into()),
            ..RunArgs::default()
        };
        let run = resolve_run(Some("churn"), &args, true).unwrap();
        assert_eq!(run.spec.initial_threads(), 3);
        assert_eq!(run.spec.table.layout, Layout::Linear);
        assert_eq!(run.spec.stop, StopSpec::Duration(std::time::Duration::from_secs(2)));
    }

    #[test]
    fn bad_flags_name_the_flag_and_exit_2() {
        let args = RunArgs { duration: Some("5 parsecs".into()), ..RunArgs::default() };
        let e = resolve_run(None, &args, true).unwrap_err();
        assert_eq!(e.code, exit::USAGE);
        assert!(e.message.contains("--duration"), "{}", e.message);
        let args = RunArgs { backend: Some("dashmapp".into()), ..RunArgs::default() };
        let e = resolve_run(None, &args, true).unwrap_err();
        assert!(e.message.contains("did you mean `dashmap`"), "{}", e.message);
        let args = RunArgs { layout: Some("diagonal".into()), ..RunArgs::default() };
        assert_eq!(resolve_run(None, &args, true).unwrap_err().code, exit::USAGE);
    }

    #[test]
    fn unknown_scenarios_and_bad_files_have_their_own_codes() {
        let e = resolve_run(Some("chrun"), &RunArgs::default(), true).unwrap_err();
        assert_eq!(e.code, exit::USAGE);
        assert!(e.message.contains("churn"), "{}", e.message);
        let dir = std::env::temp_dir().join(format!("slotscope-resolve-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, "[table]\ncapcity = 5\n").unwrap();
        let e = resolve_run(Some(bad.to_str().unwrap()), &RunArgs::default(), true).unwrap_err();
        assert_eq!(e.code, exit::BAD_SCENARIO);
        assert!(e.message.contains("bad.toml:2:1"), "{}", e.message);
        let missing = dir.join("missing.toml");
        let e = resolve_run(Some(missing.to_str().unwrap()), &RunArgs::default(), true).unwrap_err();
        assert_eq!(e.code, exit::BAD_SCENARIO);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
