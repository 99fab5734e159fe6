//! A lesson in the TUI: which step is shown, what moving to another step asks of the engines
//! and of the view, and the narration panel's content (the step's words and its live
//! figures, computed from the shown frame).

use super::{Change, Figure as FigureKind, Focus, Lesson};
use slotscope_views::units::{Nanos, Si};
use slotscope_views::{Figure, Narration, Op, Screen, ViewState};

use crate::adapt::Frame;

/// The lesson being taught and where it is.
#[derive(Clone, Debug)]
pub struct LessonRun {
    /// The lesson.
    pub lesson: Lesson,
    /// The step shown (0-based).
    pub step: usize,
}

/// What entering a step does to the view (the engine part is a list of [`Change`]s).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepView {
    /// Show this screen.
    pub screen: Option<Screen>,
    /// Put the cursor here.
    pub focus: Option<Focus>,
    /// Open or close the explain panel.
    pub explain: Option<bool>,
    /// Show or hide the next ids.
    pub next_ids: Option<bool>,
}

impl LessonRun {
    /// A run of `lesson`, before its first step is entered.
    pub fn new(lesson: Lesson) -> LessonRun {
        LessonRun { lesson, step: 0 }
    }

    /// Moves to step `to` (from `from`, `None` at the start): the engine changes and the view
    /// changes. `None` if `to` is not a step.
    pub fn go(&mut self, from: Option<usize>, to: usize) -> Option<(Vec<Change>, StepView)> {
        let step = self.lesson.steps.get(to)?;
        let changes = self.lesson.transition(from, to);
        self.step = to;
        let mut view =
            StepView { screen: step.view, focus: step.focus, explain: step.explain, next_ids: step.next_ids };
        if step.focus == Some(Focus::Header) && view.screen.is_none() {
            view.screen = Some(Screen::Contention);
        }
        Some((changes, view))
    }

    /// Applies a step's view changes to `state`; `hottest` is the hottest slot line of the
    /// shown frame (for `focus = "hottest"`).
    pub fn apply_view(view: &StepView, state: &mut ViewState, hottest: Option<usize>) {
        if let Some(s) = view.screen {
            state.screen = s;
        }
        match view.focus {
            Some(Focus::Line(l)) => state.map.cursor_line = l,
            Some(Focus::Hottest) => state.map.cursor_line = hottest.unwrap_or(state.map.cursor_line),
            Some(Focus::Header) | None => {}
        }
        if let Some(e) = view.explain {
            state.detail_open = e;
        }
        if let Some(n) = view.next_ids {
            state.show_next_ids = n;
        }
    }

    /// The figures the current step watches.
    pub fn watched(&self) -> &[FigureKind] {
        let step = &self.lesson.steps[self.step];
        step.watch.as_deref().unwrap_or(&self.lesson.watch)
    }

    /// The narration panel for the shown frame (`b`: side B's while split).
    pub fn narration(&self, a: &Frame, b: Option<&Frame>, ascii: bool) -> Narration {
        let step = &self.lesson.steps[self.step];
        Narration {
            lesson: self.lesson.title.clone(),
            step: self.step + 1,
            steps: self.lesson.steps.len(),
            title: step.title.clone(),
            say: step.say.clone(),
            ask: step.ask.clone(),
            figures: figures(self.watched(), a, b, ascii),
        }
    }
}

/// The hottest slot line of `frame`, if any line was written.
pub fn hottest_line(frame: &Frame) -> Option<usize> {
    let w = &frame.heat.slots.writes;
    let (i, max) = w.iter().enumerate().max_by_key(|(i, w)| (**w, std::cmp::Reverse(*i)))?;
    (*max > 0).then_some(i)
}

/// Lines written by two or more threads in the interval, and lines written at all.
pub fn sharing(frame: &Frame) -> (usize, usize) {
    let s = &frame.heat.slots;
    let shared = s.writers.iter().filter(|&&w| w >= 2).count();
    let written = s.writes.iter().filter(|&&w| w > 0).count();
    (shared, written)
}

/// The slot lines' expected transfers per second in the interval, all lines together (see
/// `slotscope_views::model::expected_transfers`).
pub fn transfers_per_s(frame: &Frame) -> f64 {
    frame.heat.per_second(1).map_or(0.0, |unit| unit * frame.heat.slots.total_transfers())
}

fn per_s(frame: &Frame, n: u64) -> f64 {
    frame.heat.per_second(n).unwrap_or(0.0)
}

fn fig(label: impl Into<String>, value: impl Into<String>, note: impl Into<String>) -> Figure {
    Figure { label: label.into(), value: value.into(), note: note.into(), alarm: false }
}

/// One value per side: `a`, or `a │ b` while split.
fn pair(a: String, b: Option<String>) -> String {
    match b {
        Some(b) => format!("{a} | {b}"),
        None => a,
    }
}

/// The live figures `kinds` of frame `a` (and side B's frame `b` while split).
pub fn figures(kinds: &[FigureKind], a: &Frame, b: Option<&Frame>, ascii: bool) -> Vec<Figure> {
    let ns = |v: u64| Nanos::new(v, ascii).to_string();
    let split_note = if b.is_some() { "A | B" } else { "" };
    let mut out = Vec::new();
    for kind in kinds {
        match kind {
            FigureKind::Throughput => out.push(fig(
                "ops/s",
                pair(Si(a.header.ops_per_s).to_string(), b.map(|b| Si(b.header.ops_per_s).to_string())),
                split_note,
            )),
            FigureKind::P99 => {
                for op in Op::ALL {
                    let pa = a.latency.op(op).interval;
                    if pa.count == 0 {
                        continue;
                    }
                    let pb = b.map(|b| b.latency.op(op).interval).filter(|p| p.count > 0);
                    let corrected = if a.latency.open_loop { " (corrected)" } else { "" };
                    out.push(fig(
                        format!("p99 {}", op.name()),
                        pair(ns(pa.p99), pb.map(|p| ns(p.p99))),
                        format!("{split_note}{corrected}").trim().to_owned(),
                    ));
                }
            }
            FigureKind::Omission => {
                let l = &a.latency;
                let ran: Vec<Op> = Op::ALL.into_iter().filter(|&o| l.op(o).run.count > 0).collect();
                for op in ran.into_iter().take(1) {
                    let o = l.op(op);
                    if l.open_loop {
                        out.push(fig(format!("p99 {} corrected", op.name()), ns(o.run.p99), ""));
                        out.push(fig("uncorrected", ns(o.run_uncorrected.p99), ""));
                        out.push(fig("max", ns(o.run.max), "since the step began"));
                    } else {
                        out.push(fig(
                            format!("p99 {}", op.name()),
                            ns(o.run.p99),
                            "closed loop: no schedule",
                        ));
                        out.push(fig("p99.9", ns(o.run.p999), ""));
                        out.push(fig("max", ns(o.run.max), "since the step began"));
                    }
                }
            }
            FigureKind::Sharing => {
                let rate = |f: &Frame| Si(transfers_per_s(f)).to_string();
                let (s, w) = sharing(a);
                let (value, note) = match b {
                    Some(b) => {
                        (pair(rate(a), Some(rate(b))), "slot-line transfers/s (est.), A | B".to_owned())
                    }
                    None => {
                        (rate(a), format!("slot-line transfers/s (est.); {s} of {w} written lines shared"))
                    }
                };
                out.push(fig("sharing", value, note));
            }
            FigureKind::Header => {
                let h = &a.heat;
                out.push(fig(
                    "header writes",
                    format!("{}/s", Si(per_s(a, h.header_writes))),
                    match h.header_writers {
                        1 => "1 writer".to_owned(),
                        n => format!("{n} writers"),
                    },
                ));
            }
            FigureKind::Retries => {
                let t = &a.timeline;
                let v = |f: &Frame| {
                    let t = &f.timeline;
                    Si((t.ticket_skips_per_s.last().unwrap_or(0) + t.ring_retries_per_s.last().unwrap_or(0))
                        as f64)
                    .to_string()
                };
                let _ = t;
                out.push(fig("skips+retries/s", pair(v(a), b.map(v)), split_note));
            }
            FigureKind::Stale => {
                let stale: u64 = a.threads.rows.iter().map(|r| r.stale_rejections).sum();
                out.push(fig("stale rejected", Si(stale as f64).to_string(), "so far"));
            }
            FigureKind::Violations => {
                let v = a.header.violations + b.map_or(0, |b| b.header.violations);
                let mut f = fig("violations", v.to_string(), if v > 0 { "self-checks failed" } else { "" });
                f.alarm = v > 0;
                out.push(f);
            }
            FigureKind::Garbage => match a.garbage {
                Some(g) => {
                    let pending = g.count.pending();
                    let bytes = pending.saturating_mul(g.element_bytes as u64);
                    out.push(fig(
                        "garbage",
                        Si(pending as f64).to_string(),
                        format!("elements, {} waiting to be freed", slotscope_views::units::Bytes(bytes)),
                    ));
                    match a.pin_hold {
                        Some(h) if h.released.is_none() => {
                            let mut f = fig(
                                "pin held",
                                format!("{:.1} s", h.held_for.as_secs_f64()),
                                "by one reader",
                            );
                            f.alarm = true;
                            out.push(f);
                        }
                        Some(h) => out.push(fig(
                            "pin",
                            format!("held {:.1} s", h.held_for.as_secs_f64()),
                            h.released.map_or("", |r| r.describe()),
                        )),
                        None => out.push(fig("pin", "none held", "workers repin every batch")),
                    }
                }
                None => out.push(fig("garbage", "-", "not counted (run a lesson for the gauge)")),
            },
        }
    }
    out
}

/// The figures of presenter mode without a lesson.
pub const PRESENTER_FIGURES: [FigureKind; 5] = [
    FigureKind::Throughput,
    FigureKind::P99,
    FigureKind::Sharing,
    FigureKind::Header,
    FigureKind::Violations,
];

#[cfg(test)]
mod tests {
    use super::*;
    use slotscope_stress::scenario::ValidationContext;

    fn lesson() -> Lesson {
        let text = r#"summary = "s"
title = "T"
scenario = "churn"
watch = ["throughput"]
[[step]]
title = "one"
say = "first"
view = "contention"
focus = "header"
[[step]]
title = "two"
say = "second"
layout = "linear"
focus = 5
explain = true
next_ids = true
watch = ["violations"]
"#;
        crate::lesson::parse(text, "t.toml", "t", None, &ValidationContext::with_cores(0..2)).unwrap()
    }

    #[test]
    fn going_to_a_step_gives_engine_and_view_changes() {
        let mut run = LessonRun::new(lesson());
        let (changes, view) = run.go(None, 0).unwrap();
        assert!(changes.is_empty());
        assert_eq!(view.screen, Some(Screen::Contention));
        let (changes, view) = run.go(Some(0), 1).unwrap();
        assert_eq!(run.step, 1);
        assert_eq!(changes.len(), 1, "{changes:?}");
        let mut state = ViewState::default();
        LessonRun::apply_view(&view, &mut state, Some(9));
        assert_eq!((state.map.cursor_line, state.detail_open, state.show_next_ids), (5, true, true));
        assert!(run.go(Some(1), 2).is_none(), "no third step");
        assert_eq!(run.watched(), [FigureKind::Violations]);
    }

    #[test]
    fn figures_read_the_frame() {
        let mut a = Frame::default();
        a.header.ops_per_s = 1.5e6;
        a.header.violations = 2;
        let mut b = Frame::default();
        b.header.ops_per_s = 3e6;
        let f = figures(&[FigureKind::Throughput, FigureKind::Violations], &a, Some(&b), false);
        assert_eq!(f[0].value, "1.50M | 3.00M");
        assert_eq!(f[0].note, "A | B");
        assert_eq!((f[1].value.as_str(), f[1].alarm), ("2", true));
        let g = figures(&[FigureKind::Garbage], &a, None, false);
        assert_eq!(g[0].value, "-");
        a.heat.slots.writes = vec![0, 5, 9, 9];
        a.heat.slots.writers = vec![0, 2, 1, 3];
        assert_eq!(hottest_line(&a), Some(2), "the first of the hottest");
        assert_eq!(sharing(&a), (2, 3));
    }
}
