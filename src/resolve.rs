//! From the command line to a validated `RunSpec`: the scenario (built-in or file), then the
//! flags that override it. Shared by the headless runner and the TUI.

use slotscope_stress::scenario::{self, LoadError, Overrides, ValidationContext};
use slotscope_stress::spec::{BackendKind, RunSpec, StopSpec};
use slotscope_stress::values::{self, ValueError};
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
}

/// Loads `scenario` (default: the built-in `demo`) and applies the flags. `headless` gives a
/// scenario that would run until stopped the headless default duration instead.
pub fn resolve_run(scenario: Option<&str>, args: &RunArgs, headless: bool) -> Result<ResolvedRun, Failure> {
    let ctx = ValidationContext::detect();
    let loaded = scenario::resolve(scenario.unwrap_or(scenario::DEFAULT_SCENARIO), &ctx).map_err(|e| {
        let code = match e {
            LoadError::UnknownScenario { .. } => exit::USAGE,
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
    if headless && spec.stop == StopSpec::Forever {
        spec.stop = StopSpec::Duration(scenario::HEADLESS_DEFAULT_DURATION);
        warnings.push(format!(
            "note: scenario `{}` runs until stopped; headless runs default to {} (use -d or --ops)",
            spec.name,
            values::format_duration(scenario::HEADLESS_DEFAULT_DURATION)
        ));
    }
    Ok(ResolvedRun { spec, origin: loaded.origin, warnings })
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
