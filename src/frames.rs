//! The frames the live TUI keeps for freeze and step (`Space`, `.`, `,`), within two memory
//! budgets: one for the frames' per-line heat, one for the table snapshots they share.

use std::collections::VecDeque;
use std::rc::Rc;

use slotscope_stress::Sample;
use slotscope_table::{Geometry, Snapshot};

use crate::adapt::{Adapter, Frame, RunFacts};

/// Frames kept for freeze and step (`Space`, `.`, `,`): 6.4 s at the default 10 samples/s.
pub const MAX_FRAMES: usize = 64;
/// Memory for table snapshots (17 bytes a slot each): the ones the kept frames show plus the
/// one the sampler scans into. Frames share a snapshot until the next scan; past this budget
/// the oldest frames go, and their snapshot's memory takes the next scan. A 2^16-slot table
/// keeps 44 scans; a 2^20-slot one only the latest (two buffers: 34 MiB).
pub const SNAPSHOT_BUDGET_BYTES: usize = 48 << 20;
/// Memory for the kept frames apart from their snapshots: mostly the per-line write heat, 5
/// bytes a line of the slot array and of the ring. A 2^16-slot table keeps all 64 frames
/// (96 KiB each), a 2^20-slot one 9 (1.3 MiB each).
pub const FRAME_BUDGET_BYTES: usize = 12 << 20;
/// A frame's bytes besides the heat (histories, latency, thread rows), about.
const FRAME_FIXED_BYTES: usize = 16 << 10;
/// The frames kept for freeze and step, oldest first.
#[derive(Debug)]
pub struct FrameRing {
    frames: VecDeque<Frame>,
    max_frames: usize,
    max_snapshots: usize,
}

impl FrameRing {
    /// A ring of at most `max_frames` frames holding at most `max_snapshots` distinct
    /// snapshots (both at least 1).
    pub fn new(max_frames: usize, max_snapshots: usize) -> FrameRing {
        FrameRing {
            frames: VecDeque::new(),
            max_frames: max_frames.max(1),
            max_snapshots: max_snapshots.max(1),
        }
    }

    /// Distinct snapshots the kept frames may hold for a table of `capacity` slots (the
    /// budget less the sampler's buffer; at least 1).
    pub fn snapshots_for(capacity: usize) -> usize {
        (SNAPSHOT_BUDGET_BYTES / (capacity.max(1) * 17)).saturating_sub(1).clamp(1, MAX_FRAMES)
    }

    /// Frames the budget allows for a table of `geometry` (none: another backend), 2 ..= 64.
    pub fn frames_for(geometry: Option<Geometry>) -> usize {
        let heat = geometry.map_or(0, |g| (g.lines() + g.ring_lines()) * 5);
        (FRAME_BUDGET_BYTES / (heat + FRAME_FIXED_BYTES)).clamp(2, MAX_FRAMES)
    }

    /// Frames held.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether no frame is held yet.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// The frame `back` steps before the newest (0 = the newest).
    pub fn back(&self, back: usize) -> Option<&Frame> {
        self.frames.len().checked_sub(back + 1).and_then(|i| self.frames.get(i))
    }

    fn newest_snapshot(&self) -> Option<&Rc<Snapshot>> {
        self.frames.back().and_then(|f| f.snapshot.as_ref())
    }

    /// Adds a frame filled from `sample`, reusing the oldest one's memory when full.
    pub(crate) fn push(&mut self, adapter: &mut Adapter, sample: &mut Sample, facts: &RunFacts) {
        let fresh = sample.snapshot_fresh && sample.snapshot.is_some() && sample.backend.geometry.is_some();
        if fresh {
            // The frame brings one more distinct snapshot: make room first, so that the memory
            // of the one that goes is what the sampler scans into next (two buffers, not three).
            while !self.frames.is_empty() && self.distinct_snapshots() >= self.max_snapshots {
                if let Some(mut old) = self.frames.pop_front() {
                    adapter.recycle(&mut old);
                }
            }
        }
        // The limit follows the table: a restart with the padded layout has 8 times the lines.
        let limit = self.max_frames.min(Self::frames_for(sample.backend.geometry));
        let mut reused = None;
        while self.frames.len() >= limit {
            match self.frames.pop_front() {
                Some(mut old) => {
                    adapter.recycle(&mut old);
                    reused = Some(old);
                }
                None => break,
            }
        }
        let mut frame = reused.unwrap_or_default();
        let previous = self.newest_snapshot().cloned();
        adapter.fill(sample, facts, previous.as_ref(), &mut frame);
        self.frames.push_back(frame);
    }

    fn distinct_snapshots(&self) -> usize {
        let mut n = 0;
        let mut last: Option<&Rc<Snapshot>> = None;
        for f in &self.frames {
            if let Some(s) = &f.snapshot {
                if last.is_none_or(|l| !Rc::ptr_eq(l, s)) {
                    n += 1;
                }
                last = Some(s);
            }
        }
        n
    }

    /// Marks every kept frame as the ended run's (no frame comes after).
    pub(crate) fn set_ended(&mut self) {
        for f in &mut self.frames {
            f.header.ended = true;
        }
    }

    pub(crate) fn set_frozen(&mut self, frozen: bool) {
        for f in &mut self.frames {
            f.header.frozen = frozen;
        }
    }
}
