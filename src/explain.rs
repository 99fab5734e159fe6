//! "Explain this line": from the measured counters of one cache line to a diagnosis in plain
//! words. [`diagnose`] is a pure function of a [`LineCounters`] (tested on hand-made ones);
//! [`counters_of`] gathers them from a frame.
//!
//! The rules, in order:
//! - no per-line counts (probes off, another backend): not measured;
//! - the header line: written by two or more threads, a hot counter (true sharing of the count
//!   and the ring cursors, which every insert and remove must update); by one, private;
//! - a slot line with (nearly) no writes in the window: quiet;
//! - written by one thread: private, no sharing;
//! - written by several threads: if two or more of its slots were reused (their generation
//!   moved) in the window, or the reuse is not known, the threads wrote *different* slots: false
//!   sharing; if at most one slot changed hands, they wrote the *same* slot: true sharing.

use std::fmt::Write as _;
use std::time::Duration;

use slotscope_table::{Layout, SlotState};
use slotscope_views::units::Si;
use slotscope_views::{Explanation, Verdict};

use crate::adapt::Frame;

/// Writes per second under which a slot line counts as quiet.
pub const QUIET_WRITES_PER_S: f64 = 1.0;
/// Live keys named in the facts.
const KEYS_NAMED: usize = 4;

/// One slot of the line, as the last scan saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotFact {
    /// Slot index.
    pub slot: usize,
    /// Its state.
    pub state: SlotState,
    /// The id it holds (Erlang's id: `serial * N + index`), if occupied.
    pub id: Option<u64>,
    /// Times it was handed out again between the last two scans (`None`: unknown).
    pub reuses: Option<u64>,
}

/// What was measured on one line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LineCounters {
    /// The slot line, or `None` for the header line.
    pub line: Option<usize>,
    /// The table's layout.
    pub layout: Option<Layout>,
    /// Slots per line.
    pub slots_per_line: usize,
    /// Lines in the slot array.
    pub lines: usize,
    /// Per-line counts exist (probes on, our table).
    pub measured: bool,
    /// Writes per second to the line (over the window).
    pub writes_per_s: f64,
    /// `(thread, writes)` in the window, heaviest first (empty: not broken down).
    pub writers: Vec<(u32, u32)>,
    /// Distinct writers in the last interval (when `writers` is not broken down).
    pub interval_writers: u8,
    /// The window the writers cover.
    pub window: Duration,
    /// The line's slots.
    pub slots: Vec<SlotFact>,
    /// The time the reuses cover.
    pub reuse_window: Duration,
    /// Ticket skips and ring retries per second over the whole table (not counted per line).
    pub retries_per_s: (f64, f64),
}

impl LineCounters {
    fn writer_count(&self) -> usize {
        if self.writers.is_empty() {
            usize::from(self.interval_writers)
        } else {
            self.writers.len()
        }
    }
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn rate(x: f64) -> String {
    format!("{}/s", Si(x))
}

fn writers_text(c: &LineCounters) -> String {
    let total: u64 = c.writers.iter().map(|w| u64::from(w.1)).sum::<u64>().max(1);
    let mut out = String::new();
    for (i, (t, w)) in c.writers.iter().take(4).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "T{t} {}%", u64::from(*w) * 100 / total);
    }
    if c.writers.len() > 4 {
        let _ = write!(out, " +{} more", c.writers.len() - 4);
    }
    out
}

/// The diagnosis of `c`, in words.
pub fn diagnose(c: &LineCounters) -> Explanation {
    let window =
        if c.window > Duration::ZERO { format!("last {}", secs(c.window)) } else { "last interval".into() };
    let mut e = Explanation { writers: c.writers.clone(), window: window.clone(), ..Explanation::default() };
    let n = c.writer_count();
    let Some(line) = c.line else {
        e.subject = "header line · count and ring cursors".into();
        e.facts.push(("writes".into(), rate(c.writes_per_s)));
        if !c.measured {
            e.verdict = Verdict::Unmeasured;
            e.headline = "no per-line counts: this backend or run has no probes".into();
            return e;
        }
        e.facts.push(("writers".into(), n.to_string()));
        if n >= 2 {
            e.verdict = Verdict::HotCounter;
            e.headline =
                format!("written by {n} threads, {}: the hottest line of the table", rate(c.writes_per_s));
            e.because = "Every insert claims room and a ticket here, every remove takes a ticket and \
                         gives the room back: three atomic updates per insert and remove pair, from every \
                         thread, on the same words. That is true sharing: the line moves from core to core \
                         with each update, and no layout can move these counters apart."
                .into();
            e.try_this = Some(
                "fewer updates: a read-heavy mix (lookups write nothing shared), one writer thread, or \
                 handing out ids in per-thread batches (a sharded allocator)"
                    .into(),
            );
        } else if c.writes_per_s >= QUIET_WRITES_PER_S {
            e.verdict = Verdict::Private;
            e.headline = "written by one thread only: it stays in that core's cache".into();
            e.because = "The counters are still updated by every insert and remove, but with one writer \
                         each update is a cache hit."
                .into();
        } else {
            e.verdict = Verdict::Quiet;
            e.headline = "hardly written: no inserts or removes right now".into();
        }
        return e;
    };
    let s = c.slots_per_line.max(1);
    e.subject = format!("line {line} · slots {}–{}", line * s, line * s + s - 1);
    let live = c.slots.iter().filter(|f| f.state == SlotState::Occupied).count();
    let ids: Vec<String> =
        c.slots.iter().filter_map(|f| f.id).take(KEYS_NAMED).map(|i| i.to_string()).collect();
    let mut holds = format!("{live} of {} slots live", c.slots.len());
    if !ids.is_empty() {
        let _ = write!(holds, ", ids {}{}", ids.join(" "), if live > ids.len() { " …" } else { "" });
    }
    e.facts.push(("holds".into(), holds));
    if !c.measured {
        e.verdict = Verdict::Unmeasured;
        e.headline = "no per-line counts: the workers run without probes".into();
        return e;
    }
    e.facts.push(("writes".into(), rate(c.writes_per_s)));
    if !c.writers.is_empty() {
        e.facts.push(("by".into(), writers_text(c)));
    }
    let known: Vec<u64> = c.slots.iter().filter_map(|f| f.reuses).collect();
    let reused_slots = known.iter().filter(|&&r| r > 0).count();
    let reuse_total: u64 = known.iter().sum();
    if known.len() == c.slots.len() && !known.is_empty() {
        e.facts.push((
            "reused".into(),
            format!("{reused_slots} slots, {reuse_total} times in {}", secs(c.reuse_window)),
        ));
    }
    let (skips, retries) = c.retries_per_s;
    e.facts.push(("retries".into(), format!("{} skips, {} ring (whole table)", rate(skips), rate(retries))));

    if c.writes_per_s < QUIET_WRITES_PER_S || n == 0 {
        e.verdict = Verdict::Quiet;
        e.headline = format!("no writes in the {window}");
        e.because = if live > 0 {
            "Its keys are only looked up (lookups write nothing shared) or nobody uses them now.".into()
        } else {
            "Nothing lives here and no insert landed here lately.".into()
        };
        return e;
    }
    if n == 1 {
        let who = c.writers.first().map_or_else(|| "one thread".to_owned(), |w| format!("T{}", w.0));
        e.verdict = Verdict::Private;
        e.headline = format!("written by {who} only: no sharing");
        e.because = format!("One core writes it, so the line stays in {who}'s cache between writes.");
        return e;
    }
    let one_slot = known.len() == c.slots.len() && !known.is_empty() && reused_slots <= 1;
    if one_slot || c.layout == Some(Layout::Padded) {
        e.verdict = Verdict::TrueSharing;
        e.headline = format!("written by {n} threads in the {window}: the same slot passed between them");
        e.because = "One slot, and so one key after another, was written by several threads: a key \
                     removed by one thread, its slot handed to the next insert, which another thread made. \
                     They share the data itself, not just the line; no layout separates that."
            .into();
        e.try_this = Some(if c.layout == Some(Layout::Padded) {
            "nothing in the layout: padded already gives every slot its own line".into()
        } else {
            "fewer threads inserting and removing, or ids kept per thread (a sharded allocator)".into()
        });
        return e;
    }
    e.verdict = Verdict::FalseSharing;
    let slots = if reused_slots >= 2 {
        format!("{reused_slots} of its slots changed hands")
    } else {
        "different slots".into()
    };
    e.headline = format!("written by {n} threads in the {window}: false sharing, {slots}");
    e.because = format!(
        "These are different keys on one {}-byte line: each thread writes its own slots, but the \
         cache moves whole lines, so each write takes the line away from the other cores.",
        c.slots_per_line * 8
    );
    e.try_this = Some(match c.layout {
        Some(Layout::Linear) => format!(
            "press L: the interleaved layout puts consecutive ids on different lines ({} lines apart \
             from each other's next turn), so concurrent inserters stop meeting here",
            c.lines
        ),
        Some(Layout::Interleaved) => "interleaved already spreads consecutive ids; threads meet here \
                                       when ids wrap round the table. Padded (L) gives each slot its \
                                       own line, at 8 times the memory"
            .into(),
        _ => "a layout that spreads consecutive ids (interleaved) or pads each slot".into(),
    });
    e
}

/// The counters of `line` (`None`: the header line) in `frame`.
pub fn counters_of(frame: &Frame, line: Option<usize>) -> LineCounters {
    let heat = &frame.heat;
    let per_s = |n: u64| heat.per_second(n).unwrap_or(0.0);
    let mut c = LineCounters {
        line,
        measured: heat.measured,
        retries_per_s: (
            frame.timeline.ticket_skips_per_s.last().unwrap_or(0) as f64,
            frame.timeline.ring_retries_per_s.last().unwrap_or(0) as f64,
        ),
        ..LineCounters::default()
    };
    let Some(snap) = frame.snapshot.as_deref() else {
        if line.is_none() {
            c.writes_per_s = per_s(heat.header_writes);
            c.interval_writers = heat.header_writers;
        }
        return c;
    };
    let g = snap.geometry();
    c.layout = Some(g.layout());
    c.slots_per_line = g.slots_per_line();
    c.lines = g.lines();
    let Some(line) = line else {
        c.writes_per_s = per_s(heat.header_writes);
        c.interval_writers = heat.header_writers;
        return c;
    };
    let line = line.min(g.lines() - 1);
    c.line = Some(line);
    c.interval_writers = heat.slots.writers(line);
    let a = &frame.activity;
    if a.line == line && frame.activity_window > Duration::ZERO {
        c.writers.clone_from(&a.writers);
        c.window = frame.activity_window;
        let total: u64 = a.writers.iter().map(|w| u64::from(w.1)).sum();
        c.writes_per_s = total as f64 / c.window.as_secs_f64().max(1e-9);
    } else {
        c.writes_per_s = per_s(u64::from(heat.slots.writes(line)));
    }
    let churn = frame.churn.as_ref().filter(|ch| ch.line == line);
    if let Some(ch) = churn {
        c.reuse_window = ch.over;
    }
    for (i, s) in g.slots_of_line(line).enumerate() {
        let info = snap.slot(s);
        c.slots.push(SlotFact {
            slot: s,
            state: info.state,
            id: (info.state == SlotState::Occupied).then(|| info.key.map(|k| g.id_of(k))).flatten(),
            reuses: churn.and_then(|ch| ch.reuses.get(i).copied()),
        });
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(reuses: &[u64]) -> Vec<SlotFact> {
        reuses
            .iter()
            .enumerate()
            .map(|(i, &r)| SlotFact {
                slot: 8 + i,
                state: if i % 2 == 0 { SlotState::Occupied } else { SlotState::Free },
                id: (i % 2 == 0).then_some(1000 + i as u64),
                reuses: Some(r),
            })
            .collect()
    }

    fn line(writers: Vec<(u32, u32)>, reuses: &[u64], layout: Layout) -> LineCounters {
        let total: u32 = writers.iter().map(|w| w.1).sum();
        LineCounters {
            line: Some(1),
            layout: Some(layout),
            slots_per_line: 8,
            lines: 128,
            measured: true,
            writes_per_s: f64::from(total),
            writers,
            interval_writers: 0,
            window: Duration::from_secs(1),
            slots: slots(reuses),
            reuse_window: Duration::from_millis(100),
            retries_per_s: (20.0, 5.0),
        }
    }

    #[test]
    fn several_writers_on_different_slots_is_false_sharing() {
        let c = line(vec![(0, 600), (1, 400), (3, 2)], &[1, 0, 2, 1, 0, 0, 1, 0], Layout::Linear);
        let e = diagnose(&c);
        assert_eq!(e.verdict, Verdict::FalseSharing);
        assert_eq!(
            e.headline,
            "written by 3 threads in the last 1.0 s: false sharing, 4 of its slots changed hands"
        );
        assert_eq!(e.subject, "line 1 · slots 8–15");
        assert!(e.try_this.as_deref().unwrap().starts_with("press L: the interleaved layout"));
        let facts: Vec<(&str, &str)> = e.facts.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(
            facts,
            [
                ("holds", "4 of 8 slots live, ids 1000 1002 1004 1006"),
                ("writes", "1.00k/s"),
                ("by", "T0 59%, T1 39%, T3 0%"),
                ("reused", "4 slots, 5 times in 0.1 s"),
                ("retries", "20/s skips, 5/s ring (whole table)"),
            ]
        );
        assert_eq!(e.writers, [(0, 600), (1, 400), (3, 2)]);
        // Interleaved: the advice changes to padding.
        let e = diagnose(&line(vec![(0, 5), (1, 5)], &[1, 1, 0, 0, 0, 0, 0, 0], Layout::Interleaved));
        assert_eq!(e.verdict, Verdict::FalseSharing);
        assert!(e.try_this.unwrap().contains("Padded (L)"));
    }

    #[test]
    fn several_writers_on_one_slot_is_true_sharing() {
        let e = diagnose(&line(vec![(0, 30), (1, 30)], &[0, 0, 6, 0, 0, 0, 0, 0], Layout::Linear));
        assert_eq!(e.verdict, Verdict::TrueSharing);
        assert!(e.headline.contains("the same slot passed between them"), "{}", e.headline);
        // In the padded layout a line is one slot: sharing it is sharing the slot.
        let mut c = line(vec![(0, 30), (1, 30)], &[3], Layout::Padded);
        c.slots_per_line = 1;
        let e = diagnose(&c);
        assert_eq!(e.verdict, Verdict::TrueSharing);
        assert!(e.try_this.unwrap().starts_with("nothing in the layout"));
    }

    #[test]
    fn one_writer_is_private_and_none_is_quiet() {
        let e = diagnose(&line(vec![(2, 900)], &[3, 0, 0, 0, 0, 0, 0, 0], Layout::Linear));
        assert_eq!(e.verdict, Verdict::Private);
        assert_eq!(e.headline, "written by T2 only: no sharing");
        let e = diagnose(&line(vec![], &[0; 8], Layout::Linear));
        assert_eq!(e.verdict, Verdict::Quiet);
        assert_eq!(e.headline, "no writes in the last 1.0 s");
        assert!(e.because.contains("only looked up"));
        assert!(e.try_this.is_none());
    }

    #[test]
    fn the_header_line_is_a_hot_counter_with_two_writers() {
        let c = LineCounters {
            line: None,
            measured: true,
            writes_per_s: 2.05e6,
            interval_writers: 2,
            ..LineCounters::default()
        };
        let e = diagnose(&c);
        assert_eq!(e.verdict, Verdict::HotCounter);
        assert_eq!(e.subject, "header line · count and ring cursors");
        assert_eq!(e.headline, "written by 2 threads, 2.05M/s: the hottest line of the table");
        assert!(e.because.contains("three atomic updates"));
        let one = LineCounters { interval_writers: 1, ..c.clone() };
        assert_eq!(diagnose(&one).verdict, Verdict::Private);
        let quiet = LineCounters { interval_writers: 0, writes_per_s: 0.0, ..c };
        assert_eq!(diagnose(&quiet).verdict, Verdict::Quiet);
    }

    #[test]
    fn unknown_reuse_with_several_writers_is_false_sharing_and_no_probes_is_said() {
        let mut c = line(vec![(0, 10), (1, 10)], &[0; 8], Layout::Linear);
        for s in &mut c.slots {
            s.reuses = None;
        }
        let e = diagnose(&c);
        assert_eq!(e.verdict, Verdict::FalseSharing);
        assert!(!e.facts.iter().any(|(l, _)| l == "reused"));
        c.measured = false;
        assert_eq!(diagnose(&c).verdict, Verdict::Unmeasured);
    }
}
