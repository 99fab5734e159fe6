//! Contention probes: what an operation ran into, reported to a sink the caller owns.
//!
//! Every operation has a `*_probed` form generic over [`Probe`]. The plain forms pass
//! [`NoProbe`], whose methods are empty and inlined, so monomorphisation removes every probe
//! call: with probes off the machine code is that of a table without probes. The sink is
//! `&mut`, owned by one thread; there is never a shared statistics atomic (it would become the
//! hottest line in the program).

/// Which array a write touched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Region {
    /// The slot array (line index as in [`crate::Geometry::line_of_slot`]).
    Slot,
    /// The free-id ring (line index as in [`crate::Geometry::ring_line_of_cell`]).
    Ring,
    /// The header line holding `count` and both cursors (line index always 0).
    Header,
}

/// Receives what operations run into. All methods default to doing nothing.
pub trait Probe {
    /// An insert took a ring ticket whose cell was RESERVED (a remover was mid-push) and had
    /// to take another.
    #[inline]
    fn ticket_skip(&mut self) {}
    /// A remove found its ring cell still holding an id and had to take another ticket.
    #[inline]
    fn ring_retry(&mut self) {}
    /// An insert found the table full and tried once to retract its claim (Erlang's undo
    /// loop: one event per round).
    #[inline]
    fn full_undo(&mut self) {}
    /// A lookup or remove found its slot occupied by another generation (a stale key).
    #[inline]
    fn stale_rejected(&mut self) {}
    /// A lookup finished: found (`true`) or not.
    #[inline]
    fn lookup(&mut self, _hit: bool) {}
    /// An operation wrote (or read-modify-wrote) a line of `region`.
    #[inline]
    fn line_write(&mut self, _region: Region, _line: usize) {}
}

/// The probe that records nothing: what the plain operations use.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProbe;

impl Probe for NoProbe {}

/// A ready-made sink that counts each kind of event (line writes are counted per region, not
/// per line; implement [`Probe`] yourself to keep per-line heat).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ProbeCounts {
    /// See [`Probe::ticket_skip`].
    pub ticket_skips: u64,
    /// See [`Probe::ring_retry`].
    pub ring_retries: u64,
    /// See [`Probe::full_undo`].
    pub full_undos: u64,
    /// See [`Probe::stale_rejected`].
    pub stale_rejections: u64,
    /// Lookups that found their element.
    pub lookup_hits: u64,
    /// Lookups that found nothing.
    pub lookup_misses: u64,
    /// Writes to slot lines.
    pub slot_writes: u64,
    /// Writes to ring lines.
    pub ring_writes: u64,
    /// Writes to the header line.
    pub header_writes: u64,
}

impl Probe for ProbeCounts {
    #[inline]
    fn ticket_skip(&mut self) {
        self.ticket_skips += 1;
    }
    #[inline]
    fn ring_retry(&mut self) {
        self.ring_retries += 1;
    }
    #[inline]
    fn full_undo(&mut self) {
        self.full_undos += 1;
    }
    #[inline]
    fn stale_rejected(&mut self) {
        self.stale_rejections += 1;
    }
    #[inline]
    fn lookup(&mut self, hit: bool) {
        if hit {
            self.lookup_hits += 1;
        } else {
            self.lookup_misses += 1;
        }
    }
    #[inline]
    fn line_write(&mut self, region: Region, _line: usize) {
        match region {
            Region::Slot => self.slot_writes += 1,
            Region::Ring => self.ring_writes += 1,
            Region::Header => self.header_writes += 1,
        }
    }
}

impl<P: Probe + ?Sized> Probe for &mut P {
    #[inline]
    fn ticket_skip(&mut self) {
        (**self).ticket_skip();
    }
    #[inline]
    fn ring_retry(&mut self) {
        (**self).ring_retry();
    }
    #[inline]
    fn full_undo(&mut self) {
        (**self).full_undo();
    }
    #[inline]
    fn stale_rejected(&mut self) {
        (**self).stale_rejected();
    }
    #[inline]
    fn lookup(&mut self, hit: bool) {
        (**self).lookup(hit);
    }
    #[inline]
    fn line_write(&mut self, region: Region, line: usize) {
        (**self).line_write(region, line);
    }
}
