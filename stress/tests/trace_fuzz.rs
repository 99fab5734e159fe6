//! Fuzzing the trace reader with proptest (stable Rust, no cargo-fuzz): arbitrary bytes, and
//! damaged copies of a valid trace, never panic; damage never changes the records before it.
//! Memory stays bounded because the reader checks every length and count against the bytes
//! that are left before allocating (see `trace::codec::Dec::count` and the reader's `take`).

use proptest::prelude::*;
use slotscope_stress::OpKind;
use slotscope_table::{Layout, Table, Variant};
use slotscope_trace::Value;
use slotscope_trace::{
    ControlKind, ControlRecord, MachineLine, OpBatch, Record, SnapshotRecord, TableInfo, Trace, TraceHeader,
    TraceWriter, MAGIC,
};
use slotscope_trace::{OpEvent, OpOrigin, OpOutcome, OpProbes};

fn header() -> TraceHeader {
    TraceHeader {
        tool_version: "0.1.0".into(),
        scenario: "fuzz".into(),
        description: String::new(),
        source: "name = \"fuzz\"".into(),
        command: String::new(),
        seed: 7,
        stop: "ops 10".into(),
        threads: 1,
        table: TableInfo {
            backend: "slotscope".into(),
            capacity: 16,
            layout: Layout::Linear,
            line_bytes: 64,
            variant: Variant::Correct,
            prefill: 0.0,
        },
        machine: MachineLine { cpu_model: "x".into(), logical_cores: 1, available_cores: 1, os: "y".into() },
        clock: "instant".into(),
        clock_ns_per_read: 20.0,
        started_unix_ms: 0,
        limit: "1GiB".into(),
        ring_events: 16,
        snapshot_interval_ns: 0,
        snapshot_max_capacity: 0,
        precision: None,
    }
}

fn records() -> Vec<Record> {
    let t: Table<u8> = Table::builder().capacity(16).build().unwrap();
    let k = t.insert(1).unwrap();
    let events = (0..20)
        .map(|i| OpEvent {
            thread: 0,
            op_index: i,
            kind: OpKind::ALL[(i % 3) as usize],
            key: Some(k.bits()),
            outcome: if i % 3 == 0 {
                OpOutcome::Hit
            } else if i % 3 == 1 {
                OpOutcome::Inserted
            } else {
                OpOutcome::Removed
            },
            value: (i % 3 != 2).then_some(Value { thread: 0, seq: i }),
            origin: OpOrigin::Run,
            probes: OpProbes { ticket_skips: u32::from(i % 5 == 0), ..OpProbes::default() },
            start_ns: 100 * i,
            end_ns: 100 * i + 30,
        })
        .collect();
    vec![
        Record::Control(ControlRecord {
            clock_ns: 1,
            kind: ControlKind::ClockStarted,
            source: "e".into(),
            what: "go".into(),
        }),
        Record::Ops(OpBatch { thread: 0, segment: 0, events }),
        Record::Snapshot(Box::new(SnapshotRecord {
            segment: 0,
            started_ns: 5,
            ended_ns: 6,
            at_end: false,
            snapshot: t.snapshot(),
        })),
    ]
}

fn valid_trace() -> Vec<u8> {
    let mut w = TraceWriter::new(Vec::new()).unwrap();
    w.write(&Record::Header(Box::new(header()))).unwrap();
    for r in records() {
        w.write(&r).unwrap();
    }
    w.into_inner()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = Trace::from_reader(bytes.as_slice());
    }

    #[test]
    fn arbitrary_records_after_a_valid_prologue_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&1u16.to_le_bytes());
        bytes.extend_from_slice(&tail);
        let _ = Trace::from_reader(bytes.as_slice());
    }

    #[test]
    fn damage_keeps_the_records_before_it(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let original = valid_trace();
        let whole = Trace::from_reader(original.as_slice()).unwrap();
        let mut bytes = original.clone();
        let mut first_damage = bytes.len();
        for (at, x) in &flips {
            let i = at.index(bytes.len());
            bytes[i] ^= x;
            first_damage = first_damage.min(i);
        }
        if truncate {
            let c = cut.index(bytes.len() + 1);
            bytes.truncate(c);
            first_damage = first_damage.min(c);
        }
        if let Ok(t) = Trace::from_reader(bytes.as_slice()) {
            // Every record read is the original record at that position (a CRC-32 collision
            // aside, which four random flips will not produce).
            prop_assert!(t.records.len() <= whole.records.len());
            prop_assert_eq!(&t.records[..], &whole.records[..t.records.len()]);
            if !t.stop.is_clean() {
                prop_assert!(t.stop.at_byte().unwrap() as usize <= first_damage.max(10));
            }
        }
    }
}
