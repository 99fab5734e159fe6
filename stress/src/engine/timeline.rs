//! The timeline of a run: the conductor thread applies the spec's phases at their times, moves
//! ramps in steps, and ends a timed run. It runs on active time (pauses and restart prefills
//! excluded) and changes the run only through the same control plane as live commands.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::engine::command::Command;
use crate::engine::run::RunCore;
use crate::engine::timer::nanos;
use crate::scenario::spec::{PhaseSpec, StopSpec};
use crate::sync::lock;

/// Ramps move their values in steps this far apart.
pub const RAMP_STEP: Duration = Duration::from_millis(100);
/// The conductor looks at the timeline at least this often.
const CONDUCTOR_TICK: Duration = Duration::from_millis(100);

/// A ramp in progress.
#[derive(Clone, Debug)]
pub(crate) struct Ramp {
    group: String,
    rate: Option<(f64, f64)>,
    threads: Option<(usize, usize)>,
    start_ns: u64,
    len_ns: u64,
}

impl RunCore {
    /// Applies phase `i` of the spec (in repetition `round` of a cycling timeline) at timeline
    /// time `t`; ramps go to `ramps`.
    pub(crate) fn apply_phase(&self, i: usize, round: u64, phase: &PhaseSpec, t: u64, ramps: &mut Vec<Ramp>) {
        let source = if round == 0 { format!("phase {i}") } else { format!("phase {i} (round {round})") };
        if let Some(mix) = phase.mix {
            let _ = self.apply(Command::SetMix { group: phase.group.clone(), mix }, &source);
        }
        let ramp_len = phase.ramp.map_or(0, nanos);
        let (old_rate, old_threads) = {
            let st = lock(&self.state);
            match self.group_index(&st, &phase.group) {
                Ok(g) => (st.groups[g].spec.rate, st.groups[g].members.len()),
                Err(_) => (None, 0),
            }
        };
        let mut ramp =
            Ramp { group: phase.group.clone(), rate: None, threads: None, start_ns: t, len_ns: ramp_len };
        if let Some(rate) = phase.rate {
            match (old_rate, rate) {
                (Some(from), Some(to)) if ramp_len > 0 => ramp.rate = Some((from, to)),
                _ => {
                    let _ = self.apply(Command::SetRate { group: phase.group.clone(), rate }, &source);
                }
            }
        }
        if let Some(threads) = phase.threads {
            if ramp_len > 0 {
                ramp.threads = Some((old_threads, threads));
            } else {
                let mut st = lock(&self.state);
                if let Ok(g) = self.group_index(&st, &phase.group) {
                    let _ = self.set_threads(&mut st, g, threads);
                    self.log(&mut st, &source, format!("group {}: {threads} threads", phase.group));
                }
            }
        }
        if ramp.rate.is_some() || ramp.threads.is_some() {
            let mut st = lock(&self.state);
            self.log(
                &mut st,
                &source,
                format!("group {}: ramp over {} ms", phase.group, ramp_len / 1_000_000),
            );
            ramps.push(ramp);
        }
        self.phase_in_force.store(i + 1, Ordering::Relaxed);
    }

    /// Moves a ramp to time `t`; false once it has reached its end.
    pub(crate) fn step_ramp(&self, ramp: &Ramp, t: u64) -> bool {
        #[allow(clippy::cast_precision_loss)]
        let frac = ((t.saturating_sub(ramp.start_ns)) as f64 / ramp.len_ns.max(1) as f64).min(1.0);
        let mut st = lock(&self.state);
        let Ok(g) = self.group_index(&st, &ramp.group) else { return false };
        if let Some((from, to)) = ramp.rate {
            let rate = from + (to - from) * frac;
            st.groups[g].spec.rate = Some(rate);
            self.set_group_settings(&st, g, |s| s.rate = Some(rate));
        }
        if let Some((from, to)) = ramp.threads {
            #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let n = (from as f64 + (to as f64 - from as f64) * frac).round() as usize;
            let _ = self.set_threads(&mut st, g, n);
        }
        frac < 1.0
    }

    /// The duration is over: stop every worker (joined later by `Engine::stop`).
    pub(crate) fn reach_deadline(&self) {
        let st = lock(&self.state);
        for w in &st.live {
            w.shared.update(|s| s.stop = true);
        }
        drop(st);
        self.deadline_reached.store(true, Ordering::Relaxed);
        self.exits.notify();
    }

    pub(crate) fn conductor_should_stop(&self, wait: Duration) -> bool {
        let stop = lock(&self.conductor_stop);
        if *stop {
            return true;
        }
        let (stop, _) =
            self.conductor_wake.wait_timeout(stop, wait).unwrap_or_else(std::sync::PoisonError::into_inner);
        *stop
    }
}

/// Runs the timeline: phases at their times (every `cycle` again, if the spec repeats), ramps,
/// the end of a timed run.
pub(crate) fn conduct(core: &RunCore) {
    let phases = core.spec.phases.clone();
    // A zero cycle would repeat forever at one instant: taken as "no cycle".
    let cycle = core.spec.cycle.map(nanos).filter(|&c| c > 0 && !phases.is_empty());
    let due = |next: usize, round: u64| {
        nanos(phases[next].at).saturating_add(round.saturating_mul(cycle.unwrap_or(0)))
    };
    let (mut next, mut round) = (0, 0u64);
    let mut ramps: Vec<Ramp> = Vec::new();
    let deadline = match core.spec.stop {
        StopSpec::Duration(d) => Some(nanos(d)),
        StopSpec::Ops(_) | StopSpec::Forever => None,
    };
    let mut wait = Duration::ZERO;
    while !core.conductor_should_stop(wait) {
        let t = core.timeline_ns();
        while next < phases.len() && due(next, round) <= t {
            core.apply_phase(next, round, &phases[next], t, &mut ramps);
            next += 1;
            if next == phases.len() && cycle.is_some() {
                next = 0;
                round += 1;
            }
        }
        ramps.retain(|r| core.step_ramp(r, t));
        if deadline.is_some_and(|d| t >= d) {
            core.reach_deadline();
            return;
        }
        let mut wake = u64::MAX;
        if next < phases.len() {
            wake = wake.min(due(next, round));
        }
        if !ramps.is_empty() {
            wake = wake.min(t + nanos(RAMP_STEP));
        }
        if let Some(d) = deadline {
            wake = wake.min(d);
        }
        wait = Duration::from_nanos(wake.saturating_sub(t)).min(CONDUCTOR_TICK);
    }
}
