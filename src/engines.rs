//! The live TUI's side effects on the engines: the run (side A), side B of an A/B split, the
//! split's turn-taking, and carrying out what [`crate::app::update`] asks of them. Every
//! outcome goes back to `update` as a [`Message`]: this module never touches the model.
//!
//! **Turns.** While split, the two engines take turns on the machine, [`SPLIT_TURN`] each (see
//! [`crate::split`] for why), as `slotscope compare --layouts` does: the running side is
//! sampled every sample period; when its turn is over it is sampled once more (closing the
//! turn's figures), paused, and the other resumes and is sampled at once so that its next
//! interval starts now; that sample, covering its paused time, is not shown. Each closed
//! turn's figures ([`TurnFigures`]) go to the model, which shows medians and intervals over
//! them; a side's first turn after the split starts, or after a lesson step, is a warm-up
//! and is dropped.

use std::time::{Duration, Instant};

use slotscope_stress::turns::TurnMeter;
use slotscope_stress::{
    Engine, EngineError, EngineOptions, Report, RunSpec, Sample, Sampler, SamplerOptions, TurnFigures,
};
use slotscope_table::Layout;

use crate::app::{Message, Request};
use crate::frames::FrameRing;
use crate::lesson::{self, Change, LessonRun};
use crate::split::{Side, SplitTurns};

/// What the engine is asked to do, as a trait so that [`steer`] is tested with a fake.
pub trait Steering {
    /// Pause every worker.
    fn pause(&self);
    /// Resume every worker.
    fn resume(&self);
    /// Add a thread to `group`; its global index.
    fn add_thread(&self, group: &str) -> Result<usize, EngineError>;
    /// Remove `group`'s newest thread.
    fn remove_thread(&self, group: &str) -> Result<(), EngineError>;
    /// Restart the table with `layout`.
    fn restart_with_layout(&self, layout: Layout) -> Result<(), EngineError>;
    /// Restart the table with `allocator`.
    fn restart_with_allocator(&self, allocator: slotscope_table::Allocator) -> Result<(), EngineError>;
    /// Zero every counter and histogram (violations are kept).
    fn reset_stats(&self);
}

impl Steering for Engine {
    fn pause(&self) {
        Engine::pause(self);
    }
    fn resume(&self) {
        Engine::resume(self);
    }
    fn add_thread(&self, group: &str) -> Result<usize, EngineError> {
        Engine::add_thread(self, group)
    }
    fn remove_thread(&self, group: &str) -> Result<(), EngineError> {
        Engine::remove_thread(self, group)
    }
    fn restart_with_layout(&self, layout: Layout) -> Result<(), EngineError> {
        Engine::restart_with_layout(self, layout)
    }
    fn restart_with_allocator(&self, allocator: slotscope_table::Allocator) -> Result<(), EngineError> {
        Engine::restart_with_allocator(self, allocator)
    }
    fn reset_stats(&self) {
        Engine::reset_stats(self);
    }
}

/// Carries out an engine request; the answer, as a message for `update`. `None` for requests
/// that are not the engine's.
pub fn steer(engine: &impl Steering, request: Request) -> Option<Message<'static>> {
    let outcome = match &request {
        Request::Pause => {
            engine.pause();
            Ok(None)
        }
        Request::Resume => {
            engine.resume();
            Ok(None)
        }
        Request::AddThread(g) => engine.add_thread(g).map(Some),
        Request::RemoveThread(g) => engine.remove_thread(g).map(|()| None),
        Request::Restart(l) => engine.restart_with_layout(*l).map(|()| None),
        Request::Allocator(a) => engine.restart_with_allocator(*a).map(|()| None),
        Request::ResetStats => {
            engine.reset_stats();
            Ok(None)
        }
        Request::Save | Request::Mouse(_) | Request::Lesson { .. } => return None,
    };
    Some(Message::Steered(request, outcome.map_err(|e| e.to_string())))
}

/// How long each side of a split runs before the other takes over.
pub const SPLIT_TURN: Duration = slotscope_stress::turns::DEFAULT_TURN;

/// One engine and how it is watched.
struct Watched {
    engine: Engine,
    sampler: Sampler,
    sample: Sample,
    meter: TurnMeter,
    /// Turns begun since the split (re)started; the first is the warm-up.
    begun: usize,
}

impl Watched {
    fn new(engine: Engine) -> Watched {
        let sampler = engine.sampler(SamplerOptions::default());
        Watched { engine, sampler, sample: Sample::new(), meter: TurnMeter::default(), begun: 0 }
    }

    /// Its turn starts: resumed and sampled.
    fn begin_turn(&mut self) {
        self.engine.take_turn(true);
        self.sampler.sample_into(&mut self.sample);
        self.meter.begin(&self.sample);
        self.begun += 1;
    }

    /// Its turn ends: sampled (by the caller) and paused; the turn's figures unless it was the
    /// warm-up.
    fn end_turn(&mut self) -> Option<TurnFigures> {
        self.engine.take_turn(false);
        let f = self.meter.end(&self.sample);
        f.filter(|_| self.begun > 1)
    }
}

/// How a split ended when the run did: side B's report and the turns.
pub struct SplitEnd {
    /// Side A's and side B's layouts.
    pub layouts: (Layout, Layout),
    /// Side B's report.
    pub report: Report,
    /// The turns measured.
    pub turns: SplitTurns,
}

/// The engines of a live run: side A while it runs (its report once stopped), side B while
/// split, and whose turn it is.
pub struct Engines {
    a: Option<Watched>,
    report: Option<Report>,
    b: Option<Watched>,
    turn: Side,
    /// When the running side's turn began.
    turn_since: Instant,
    turns: SplitTurns,
    /// Side B's end, when the run ended split.
    split_end: Option<SplitEnd>,
    /// The run as started, for side B.
    base: RunSpec,
    options: EngineOptions,
}

impl Engines {
    /// Runs `engine` (side A), started from `base` with `options`.
    pub fn new(engine: Engine, base: RunSpec, options: EngineOptions) -> Engines {
        Engines {
            a: Some(Watched::new(engine)),
            report: None,
            b: None,
            turn: Side::A,
            turn_since: Instant::now(),
            turns: SplitTurns::default(),
            split_end: None,
            base,
            options,
        }
    }

    /// Side A's engine while it runs.
    pub fn a(&self) -> Option<&Engine> {
        self.a.as_ref().map(|s| &s.engine)
    }

    /// The table layouts of the two sides while split.
    fn layouts(&self) -> Option<(Layout, Layout)> {
        Some((self.a()?.table_spec().layout, self.b.as_ref()?.engine.table_spec().layout))
    }

    /// Starts side B with `layout` (paused: side A has the turn). `lesson` brings it to the
    /// lesson's current settings. The message that tells `update` of the split.
    ///
    /// # Errors
    /// Side B's engine could not start, or a lesson setting could not be applied to it.
    pub fn start_b(
        &mut self,
        layout: Layout,
        lesson: Option<&LessonRun>,
    ) -> Result<Message<'static>, String> {
        let mut spec = self.base.clone();
        spec.table.layout = layout;
        if let Some(a) = self.a() {
            spec.table.variant = a.table_spec().variant;
        }
        // The step's thread counts from the start, so that every thread prefills its share.
        if let Some(l) = lesson {
            lesson::start_threads(&mut spec, &l.lesson.state_at(l.step));
        }
        let engine = Engine::start_with_options(spec, self.options).map_err(|e| e.to_string())?;
        if let Some(l) = lesson {
            let now = l.lesson.state_at(l.step);
            for change in lesson::diff(&l.lesson.initial_state(), &now) {
                if !matches!(
                    change,
                    Change::Table { .. }
                        | Change::Split(_)
                        | Change::HoldPin(_)
                        | Change::Pause(_)
                        | Change::Threads { .. }
                ) {
                    lesson::apply(&engine, &change, Some(layout)).map_err(|e| e.to_string())?;
                }
            }
        }
        engine.take_turn(false);
        self.b = Some(Watched::new(engine));
        self.restart_turns();
        let a = self.a().map_or(layout, |a| a.table_spec().layout);
        Ok(Message::SplitStarted {
            a,
            b: layout,
            snapshots: FrameRing::snapshots_for(self.base.table.capacity),
        })
    }

    /// Side A takes the turn, and the turns start over (warm-up first): the split started,
    /// or a lesson step changed the load.
    fn restart_turns(&mut self) {
        self.turns = SplitTurns::default();
        if let Some(b) = self.b.as_mut() {
            b.engine.take_turn(false);
            b.begun = 0;
            b.meter = TurnMeter::default();
        }
        self.turn = Side::A;
        self.turn_since = Instant::now();
        if let Some(a) = self.a.as_mut() {
            a.begun = 0;
            if self.b.is_some() {
                a.begin_turn();
            } else {
                a.engine.take_turn(true);
            }
        }
    }

    /// Ends the split: side B stops (its report and the turns kept for the summary), side A
    /// runs on its own (unless `paused`).
    pub fn stop_b(&mut self, paused: bool) -> Message<'static> {
        self.end_b(paused);
        Message::SplitEnded
    }

    fn end_b(&mut self, paused: bool) -> Option<SplitEnd> {
        let b = self.b.take()?;
        let layout = b.engine.table_spec().layout;
        drop(b.sampler);
        let report = b.engine.stop();
        self.turn = Side::A;
        if let (Some(a), false) = (self.a(), paused) {
            a.take_turn(true);
        }
        let a = self.a().map_or(layout, |a| a.table_spec().layout);
        Some(SplitEnd { layouts: (a, layout), report, turns: std::mem::take(&mut self.turns) })
    }

    /// Samples for the model: side A alone, or while split the side whose turn ends (and,
    /// with `switch`, hands the turn over). `deliver` gets the message to pass to `update`.
    pub fn sample(&mut self, focus: Option<usize>, switch: bool, mut deliver: impl FnMut(Message<'_>)) {
        let Some(a) = self.a.as_mut() else { return };
        a.sampler.set_focus_line(focus);
        let Some(b) = self.b.as_mut() else {
            a.sampler.sample_into(&mut a.sample);
            deliver(Message::Sampled(&mut a.sample));
            return;
        };
        b.sampler.set_focus_line(focus);
        let switch = switch && self.turn_since.elapsed() >= SPLIT_TURN;
        let (running, waiting) = match self.turn {
            Side::A => (a, b),
            Side::B => (b, a),
        };
        running.sampler.sample_into(&mut running.sample);
        match self.turn {
            Side::A => deliver(Message::Sampled(&mut running.sample)),
            Side::B => deliver(Message::SampledB(&mut running.sample)),
        }
        if !switch {
            return;
        }
        let closed = running.end_turn();
        waiting.begin_turn();
        let side = self.turn;
        self.turn = side.other();
        self.turn_since = Instant::now();
        if let Some(f) = closed {
            self.turns.push(side, f);
            deliver(Message::SplitTurns(&self.turns));
        }
    }

    /// Carries out an engine request of `update` (pause, threads, restart, a lesson step),
    /// on both sides while split; the answers for `update`. `lesson` and `paused` are the
    /// model's, for a step that starts or ends a split.
    pub fn perform(
        &mut self,
        request: Request,
        lesson: Option<&LessonRun>,
        paused: bool,
    ) -> Vec<Message<'static>> {
        let mut out = Vec::new();
        match request {
            Request::Lesson { step, changes } => {
                let outcome = self.apply_lesson(&changes, lesson, paused, &mut out).map(|()| None);
                // The load may have changed: the turns so far no longer compare with the next.
                if self.b.is_some() && !paused {
                    self.restart_turns();
                }
                out.push(Message::Steered(Request::Lesson { step, changes }, outcome));
            }
            Request::Restart(_) | Request::Allocator(_) if self.b.is_some() => {
                out.extend(self.a().and_then(|e| steer(e, request)));
                self.restart_turns();
            }
            Request::Pause | Request::Resume if self.b.is_some() => {
                let pause = request == Request::Pause;
                if let (Some(a), Some(b)) = (self.a(), self.b.as_ref()) {
                    if pause {
                        a.pause();
                        b.engine.pause();
                    } else {
                        // The live resume is logged on both sides; the one waiting its turn
                        // goes back to waiting.
                        a.resume();
                        b.engine.resume();
                        match self.turn {
                            Side::A => b.engine.take_turn(false),
                            Side::B => a.take_turn(false),
                        }
                    }
                }
                out.push(Message::Steered(request, Ok(None)));
            }
            Request::AddThread(_) | Request::RemoveThread(_) | Request::ResetStats if self.b.is_some() => {
                out.extend(self.a().and_then(|e| steer(e, request.clone())));
                if let Some(b) = self.b.as_ref() {
                    let _ = steer(&b.engine, request);
                }
            }
            // After the run's end `update` asks the engine nothing; a stopped engine can't.
            other => {
                out.extend(self.a().and_then(|e| steer(e, other)));
            }
        }
        out.extend(self.layouts().map(|(a, b)| Message::SideLayouts(a, b)));
        out
    }

    /// A lesson step's changes: side A, and side B while split (with its own layout); a split
    /// starts or ends side B. The first error, if any (every change is tried).
    fn apply_lesson(
        &mut self,
        changes: &[Change],
        lesson: Option<&LessonRun>,
        paused: bool,
        out: &mut Vec<Message<'static>>,
    ) -> Result<(), String> {
        let mut first_error = None;
        for change in changes {
            let result = match change {
                Change::Split(Some(layout)) => match self.layouts() {
                    Some((_, l)) if l != *layout => {
                        let b = self.b.as_ref().map(|b| &b.engine);
                        b.map_or(Ok(()), |b| {
                            let t = b.table_spec();
                            let change =
                                Change::Table { layout: *layout, variant: t.variant, allocator: t.allocator };
                            lesson::apply(b, &change, None).map_err(|e| e.to_string())
                        })
                    }
                    Some(_) => Ok(()),
                    None => self.start_b(*layout, lesson).map(|m| out.push(m)),
                },
                Change::Split(None) => {
                    out.push(self.stop_b(paused));
                    Ok(())
                }
                other => {
                    let a = self.a().map_or(Ok(()), |a| lesson::apply(a, other, None));
                    let b = match (&self.b, other) {
                        // The held pin is side A's; pausing is the turns'.
                        (Some(_), Change::HoldPin(_) | Change::Pause(false)) | (None, _) => Ok(()),
                        (Some(b), _) => {
                            let keep = b.engine.table_spec().layout;
                            lesson::apply(&b.engine, other, Some(keep))
                        }
                    };
                    if let (Change::Pause(false), Some(b), Some(a)) = (other, &self.b, self.a()) {
                        // Resume only the side whose turn it is.
                        match self.turn {
                            Side::A => b.engine.take_turn(false),
                            Side::B => a.take_turn(false),
                        }
                    }
                    a.and(b).map_err(|e| e.to_string())
                }
            };
            if let Err(e) = result {
                first_error.get_or_insert(format!("{change}: {e}"));
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Stops and joins the workers (once) and keeps the report. Called when the run reaches
    /// its own end, so that the report's time ends there and not when the user quits.
    pub fn stop(&mut self) {
        if let Some(end) = self.end_b(true) {
            self.split_end = Some(end);
        }
        if let Some(a) = self.a.take() {
            drop(a.sampler);
            self.report = Some(a.engine.stop());
        }
    }

    /// Stops (if it has not yet) and hands over side A's report, and side B's with the turns
    /// when the run ended split.
    pub fn finish(mut self) -> (Report, Option<SplitEnd>) {
        self.stop();
        (self.report.expect("a run that was started has a report once stopped"), self.split_end)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    /// Records what the loop asked the engine.
    #[derive(Default)]
    struct FakeEngine {
        calls: RefCell<Vec<String>>,
    }

    impl Steering for FakeEngine {
        fn pause(&self) {
            self.calls.borrow_mut().push("pause".into());
        }
        fn resume(&self) {
            self.calls.borrow_mut().push("resume".into());
        }
        fn reset_stats(&self) {
            self.calls.borrow_mut().push("reset".into());
        }
        fn add_thread(&self, group: &str) -> Result<usize, EngineError> {
            self.calls.borrow_mut().push(format!("add {group}"));
            Ok(4)
        }
        fn remove_thread(&self, group: &str) -> Result<(), EngineError> {
            self.calls.borrow_mut().push(format!("remove {group}"));
            Err(EngineError::NoThreadToRemove(group.to_owned()))
        }
        fn restart_with_layout(&self, layout: Layout) -> Result<(), EngineError> {
            self.calls.borrow_mut().push(format!("restart {layout}"));
            Ok(())
        }
        fn restart_with_allocator(&self, allocator: slotscope_table::Allocator) -> Result<(), EngineError> {
            self.calls.borrow_mut().push(format!("restart with {allocator}"));
            Ok(())
        }
    }

    #[test]
    fn steer_calls_the_engine_and_answers() {
        let e = FakeEngine::default();
        let answers: Vec<_> = [
            Request::Pause,
            Request::Resume,
            Request::AddThread("r".into()),
            Request::RemoveThread("w".into()),
            Request::Restart(Layout::Padded),
            Request::Allocator(slotscope_table::Allocator::Magazine { size: 64 }),
            Request::ResetStats,
        ]
        .into_iter()
        .map(|r| steer(&e, r))
        .collect();
        assert_eq!(
            *e.calls.borrow(),
            [
                "pause",
                "resume",
                "add r",
                "remove w",
                "restart padded",
                "restart with magazine of 64",
                "reset"
            ]
        );
        assert!(matches!(&answers[2], Some(Message::Steered(Request::AddThread(_), Ok(Some(4))))));
        match &answers[3] {
            Some(Message::Steered(_, Err(e))) => assert!(e.contains("`w` has no thread left"), "{e}"),
            other => panic!("{other:?}"),
        }
        assert!(steer(&e, Request::Save).is_none());
        assert!(steer(&e, Request::Mouse(true)).is_none());
        assert_eq!(e.calls.borrow().len(), 7);
    }
}
