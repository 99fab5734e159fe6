//! The words and abbreviations the screens use, each defined in one line: the help overlay's
//! "Terms" section lists them (`?`), so nothing on screen goes undefined.

/// `(term, definition)`, in the order the help lists them. A definition fits one help line
/// (at most [`DEFINITION_WIDTH`] columns).
pub const TERMS: &[(&str, &str)] = &[
    ("slot", "one place for an element; a key names its slot"),
    ("line", "a cache line of 8 or 16 slots; L12 is line 12"),
    ("gen", "generation: times a slot was reused; part of its key"),
    ("id", "a key as a number: generation x slots + slot"),
    ("header", "the line with the element count and ring cursors"),
    ("counters", "what the header holds: the count and the two cursors"),
    ("ticket", "a position in the free ring; cursors count tickets"),
    ("A  F", "the alloc and free cursors: next insert, next remove"),
    ("RESERVED", "a cell or slot mid-operation: taken, not yet filled"),
    ("in flight", "RESERVED cells between the cursors: pushes under way"),
    ("skips", "an insert found its cell RESERVED, took the next"),
    ("retries", "a remove found its ring cell still full, retried"),
    ("full", "inserts refused because no free id was left"),
    ("stale", "a key whose slot was reused since: rejected"),
    ("viol", "violations: a self-check caught the table erring"),
    ("hit%", "lookups that found their key"),
    ("magazine", "a writer's own cache of free ids (--allocator)"),
    ("fill", "elements held / slots"),
    ("service time", "an op's latency from its start to its end"),
    ("corrected", "open loop: from when the op was due to its end"),
    ("p50 p99", "half / 99% of the timed ops took at most this"),
    ("<25ns", "below the clock's resolution"),
    ("1 in k timed", "the share of ops whose latency is measured"),
    ("clock", "what one clock read costs (inside every latency)"),
    ("engine", "what the stress engine adds to each op (measured)"),
    ("NOISY", "other processes used the worker cores: doubt figures"),
    ("transfer", "time for a cache line to move between two cores"),
    ("k M G", "thousand, million, billion; /s per second"),
    ("ENDED", "the run is over: its last figures stay until q"),
];

/// The definition of `word` as a column is titled (`skips`, `hit%`, `ops/s`), if the Terms
/// define it: a term names the word alone or among others (`p50 p99` defines `p99`).
pub fn define(word: &str) -> Option<&'static str> {
    let word = word.trim();
    if word == "ops/s" {
        return Some("operations per second, all kinds together");
    }
    TERMS
        .iter()
        .find(|(term, _)| *term == word || term.split_whitespace().any(|t| t == word))
        .map(|(_, d)| *d)
}

/// The widest definition the help overlay shows on one line.
pub const DEFINITION_WIDTH: usize = 52;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_find_their_definition() {
        assert_eq!(define("skips"), Some("an insert found its cell RESERVED, took the next"));
        assert_eq!(define("p99"), define("p50 p99"));
        assert_eq!(define("A"), define("A  F"));
        assert!(define("ops/s").is_some());
        assert_eq!(define("lookups"), None);
    }
}
