//! What a replay knows of its trace from the start: it does not change while replaying.

/// Facts about the trace that do not change while replaying.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TraceFacts {
    /// Ops in the trace.
    pub events: u64,
    /// The run's time zero, clock ns.
    pub zero_ns: u64,
    /// First and last op, clock ns.
    pub span_ns: (u64, u64),
    /// The first illegal op `slotscope check` found (with `--at-violation`).
    pub violation: Option<u64>,
    /// The key that op was about, when the finding names one: `v` moves the map to its slot.
    pub violation_key: Option<u64>,
}
