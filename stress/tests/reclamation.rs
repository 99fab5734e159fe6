//! A worker's session on our table frees what it removes while it runs: the garbage gauge
//! stays at a few batches' worth instead of growing with every remove. (Before the session
//! flushed after batches with removes, crossbeam-epoch freed about 1 element in 60: its
//! collection runs only on outermost pins, and the removes pin inside the reader's pin.)

use slotscope_stress::backend::{Backend, BackendFacts, Session, SlotscopeBackend};
use slotscope_stress::TableSpec;
use slotscope_table::NoProbe;
use slotscope_trace::Value;

#[test]
fn a_churning_session_frees_what_it_removes() {
    let b = SlotscopeBackend::gauged(&TableSpec { capacity: 1 << 16, ..TableSpec::default() }).unwrap();
    let mut s = b.session();
    let mut held = Vec::new();
    for i in 0..200_000u64 {
        if let Some(id) = s.insert(Value { thread: 0, seq: i }, &mut NoProbe) {
            held.push(id);
        }
        if held.len() > 1000 {
            let id = held.swap_remove(0);
            assert!(s.remove(id, &mut NoProbe));
        }
        if i % 256 == 255 {
            s.repin();
        }
    }
    let g = b.garbage().unwrap();
    assert_eq!(g.retired, 199_000);
    assert!(g.pending() < 4096, "{g:?}: garbage piles up under a churning session");
    drop(s);
    // A session that never removes never retires.
    let quiet = SlotscopeBackend::gauged(&TableSpec { capacity: 64, ..TableSpec::default() }).unwrap();
    let mut s = quiet.session();
    let id = s.insert(Value::default(), &mut NoProbe).unwrap();
    assert_eq!(s.lookup(id, &mut NoProbe), Some(Value::default()));
    s.repin();
    assert_eq!(quiet.garbage().unwrap().retired, 0);
}
