//! The trace file: a versioned, append-only, self-delimiting binary record of a run.
//!
//! ```text
//!  prologue   magic (8 bytes) | format version (u16 LE)
//!  records    len (u32 LE) | type (u8) | body (len - 1 bytes) | crc32 (u32 LE over len, type, body)
//! ```
//!
//! The first record is the [`TraceHeader`]; then op batches, drops, control events, table and
//! thread boundaries, snapshots, in the order the recorder wrote them; a cleanly closed trace
//! ends with an [`EndRecord`]. Every record decodes on its own (deltas restart in each), so a
//! reader can stop at the last whole record of a truncated file and an index can seek. The
//! byte layout of every record is in `docs/TRACE_FORMAT.md`.
//!
//! - [`TraceWriter`] frames records into any `Write`.
//! - [`TraceReader`] reads them back one by one and says where and why it stopped
//!   ([`ReadStop`]); [`Trace`] loads a whole file; [`TraceIndex`] seeks.
//! - [`merge`] reads every thread's ops in one time order (the replay's [`crate::replay`] model
//!   and player build on it).

pub(crate) mod codec;
mod geometry;
pub mod merge;
pub(crate) mod reader;
pub(crate) mod record;
pub(crate) mod snapshot;
mod writer;

pub use codec::DecodeError;
pub use reader::{IndexEntry, ReadStop, RecordPos, Trace, TraceError, TraceIndex, TraceReader};
pub use record::{
    ClockPrecision, ControlKind, ControlRecord, DropRecord, EndReason, EndRecord, FrontierRecord,
    MachineLine, OpBatch, Record, RecordType, RunSummary, SnapshotRecord, TableBegin, TableEnd, TableInfo,
    ThreadEnd, ThreadStart, TraceHeader, FRONTIER_INTERVAL_NS, UNMEASURED_EPSILON_NS,
};
pub use writer::TraceWriter;

/// The first eight bytes of every trace (non-ASCII first byte and a line feed, as PNG does, so
/// that text-mode mangling shows).
pub const MAGIC: [u8; 8] = *b"\x89SLSCTR\n";
/// The format version this build writes and the newest it reads.
///
/// - 1: the first.
/// - 2: the header ends with the clock's [`ClockPrecision`]. Version 1 traces still read
///   (their header's `precision` is `None`).
pub const FORMAT_VERSION: u16 = 3;
/// Magic plus version.
pub const PROLOGUE_BYTES: usize = 10;
/// The largest record (length field) this format writes: 64 MiB. A reader refuses longer
/// ones as damage rather than allocate for them.
pub const MAX_RECORD_BYTES: u32 = 64 << 20;
/// Bytes of framing per record: length, type, checksum.
pub const RECORD_OVERHEAD: usize = 9;

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::op::OpKind;
    use crate::op::Value;
    use crate::op::{OpEvent, OpOrigin, OpOutcome, OpProbes};
    use slotscope_table::{Geometry, Key, Layout, SlotState, Snapshot, Table, Variant};

    pub(crate) fn sample_header() -> TraceHeader {
        TraceHeader {
            tool_version: "0.1.0".into(),
            scenario: "stale-keys".into(),
            description: "stale keys must miss".into(),
            source: "name = \"stale-keys\"\n[table]\ncapacity = 1024\n".into(),
            command: "slotscope run stale-keys --seed 1".into(),
            seed: 1,
            stop: "duration 1s".into(),
            threads: 2,
            table: TableInfo {
                backend: "slotscope".into(),
                capacity: 1024,
                layout: Layout::Interleaved,
                line_bytes: 64,
                variant: Variant::NoGenerationCheck,
                prefill: 0.5,
            },
            machine: MachineLine {
                cpu_model: "AMD EPYC".into(),
                logical_cores: 2,
                available_cores: 2,
                os: "linux-x86_64".into(),
            },
            clock: "tsc".into(),
            clock_ns_per_read: 7.5,
            started_unix_ms: 1_700_000_000_000,
            limit: "1GiB".into(),
            ring_events: 1 << 15,
            snapshot_interval_ns: 250_000_000,
            snapshot_max_capacity: 1 << 20,
            precision: Some(ClockPrecision {
                resolution_ns: 10,
                cross_core_offset_ns: 90,
                cores: 2,
                pinned: true,
            }),
        }
    }

    fn ev(
        op: u64,
        kind: OpKind,
        outcome: OpOutcome,
        key: Option<u64>,
        value: Option<Value>,
        t: u64,
    ) -> OpEvent {
        OpEvent {
            thread: 1,
            op_index: op,
            kind,
            key,
            outcome,
            value,
            origin: OpOrigin::Run,
            probes: OpProbes::default(),
            start_ns: t,
            end_ns: t + 40,
        }
    }

    /// A small trace with one record of every type, a real table's snapshot included.
    pub(crate) fn sample_records() -> Vec<Record> {
        let table: Table<u32> = Table::builder()
            .capacity(16)
            .layout(Layout::Interleaved)
            .variant(Variant::RelaxedRing)
            .build()
            .unwrap();
        let a = table.insert(1).unwrap();
        let b = table.insert(2).unwrap();
        assert!(table.remove(a));
        let snap = table.snapshot();
        let mut odd = Snapshot::fresh(Geometry::new(16, Layout::Linear, 128).unwrap());
        odd.set_slot(3, SlotState::Occupied, Some(Key::from_bits(0xdead_beef)));
        odd.set_slot(4, SlotState::Reserved, None);
        odd.set_ring_cell(2, None);
        odd.set_ring_cell(5, Some(Key::from_bits(u64::MAX - 7)));
        odd.set_header(17, u64::from(u32::MAX), 3);
        let v = |thread, seq| Some(Value { thread, seq });
        let mut probed = ev(7, OpKind::Insert, OpOutcome::Inserted, Some(b.bits()), v(1, 3), 900);
        probed.probes =
            OpProbes { ticket_skips: 2, ring_retries: 0, full_undos: 1, stale_rejections: 70_000 };
        let mut prefill = ev(0, OpKind::Insert, OpOutcome::Inserted, Some(a.bits()), v(1, 0), 10);
        prefill.origin = OpOrigin::Prefill;
        let mut odd_event =
            ev(u64::MAX, OpKind::Remove, OpOutcome::Skipped, Some(u64::MAX), v(u64::MAX, 0), 5);
        odd_event.end_ns = 1; // a clock that went backwards still round-trips
        let mut sweep = ev(1, OpKind::Lookup, OpOutcome::Miss, None, None, 10_000);
        sweep.origin = OpOrigin::Sweep;
        vec![
            Record::TableBegin(TableBegin {
                segment: 0,
                clock_ns: 1,
                backend: "slotscope".into(),
                description: "slotscope interleaved 64 B lines, 16 slots".into(),
                capacity: Some(16),
                geometry: Some(table.geometry()),
                variant: Variant::RelaxedRing,
                magazine: None,
            }),
            Record::ThreadStart(ThreadStart { thread: 1, segment: 0, group: "main".into(), clock_ns: 2 }),
            Record::Control(ControlRecord {
                clock_ns: 5,
                kind: ControlKind::ClockStarted,
                source: "engine".into(),
                what: "clock started".into(),
            }),
            Record::Ops(OpBatch {
                thread: 1,
                segment: 0,
                events: vec![
                    prefill,
                    ev(0, OpKind::Lookup, OpOutcome::Hit, Some(a.bits()), v(1, 0), 100),
                    ev(1, OpKind::Remove, OpOutcome::Removed, Some(a.bits()), None, 200),
                    ev(2, OpKind::Lookup, OpOutcome::Miss, Some(a.bits()), None, 300),
                    ev(3, OpKind::Insert, OpOutcome::Refused, None, None, 400),
                    ev(4, OpKind::Lookup, OpOutcome::Hit, Some(b.bits()), v(0, 99), 500),
                    probed,
                    odd_event,
                    sweep,
                ],
            }),
            Record::Ops(OpBatch { thread: 3, segment: 2, events: Vec::new() }),
            Record::Drop(DropRecord {
                thread: 1,
                segment: 0,
                count: 5,
                first_op: 8,
                last_op: 12,
                first_ns: 1000,
                last_ns: 1500,
            }),
            Record::Snapshot(Box::new(SnapshotRecord {
                segment: 0,
                started_ns: 2000,
                ended_ns: 2100,
                at_end: false,
                snapshot: snap,
            })),
            Record::Snapshot(Box::new(SnapshotRecord {
                segment: 1,
                started_ns: 3000,
                ended_ns: 2900,
                at_end: true,
                snapshot: odd,
            })),
            Record::ThreadEnd(ThreadEnd { thread: 1, segment: 0, clock_ns: 3100, events: 9, dropped: 5 }),
            Record::TableEnd(TableEnd {
                segment: 0,
                clock_ns: 3200,
                elements: Some(1),
                inserted: 2,
                removed: 1,
            }),
            Record::TableBegin(TableBegin {
                segment: 1,
                clock_ns: 3300,
                backend: "dashmap".into(),
                description: "dashmap".into(),
                capacity: None,
                geometry: None,
                variant: Variant::Correct,
                magazine: None,
            }),
            Record::TableBegin(TableBegin {
                segment: 2,
                clock_ns: 3400,
                backend: "slotscope".into(),
                description: "slotscope interleaved 64 B lines, 16 slots, magazines of 4".into(),
                capacity: Some(16),
                geometry: Some(table.geometry()),
                variant: Variant::Correct,
                magazine: Some(4),
            }),
            Record::End(EndRecord {
                clock_ns: 4000,
                reason: EndReason::Completed,
                events: 9,
                dropped: 5,
                summary: Some(RunSummary { ops: 10, violations: 1, wall_ns: 3999 }),
            }),
        ]
    }

    pub(crate) fn sample_bytes() -> Vec<u8> {
        let mut w = TraceWriter::new(Vec::new()).unwrap();
        w.write(&Record::Header(Box::new(sample_header()))).unwrap();
        for r in sample_records() {
            w.write(&r).unwrap();
        }
        assert_eq!(w.bytes() as usize, w.get_ref().len());
        w.into_inner()
    }

    #[test]
    fn round_trip_equals_what_was_written() {
        let bytes = sample_bytes();
        let trace = Trace::from_reader(bytes.as_slice()).unwrap();
        assert_eq!(trace.header, sample_header());
        assert_eq!(trace.records, sample_records());
        assert_eq!(trace.stop, ReadStop::End);
        assert_eq!(trace.events().count(), 9);
    }

    #[test]
    fn truncation_at_every_byte_reads_a_clean_prefix() {
        let bytes = sample_bytes();
        let whole = Trace::from_reader(bytes.as_slice()).unwrap();
        // Where each record ends, to know how many must survive a cut.
        let mut ends = Vec::new();
        let (_, mut r) = TraceReader::with_header(bytes.as_slice()).unwrap();
        let header_end = r.offset();
        while let Some((pos, _)) = r.next_record() {
            ends.push(pos.offset + pos.bytes);
        }
        for cut in 0..bytes.len() {
            let part = &bytes[..cut];
            match Trace::from_reader(part) {
                Err(e) => {
                    assert!((cut as u64) < header_end, "cut {cut}: lost the header: {e}");
                    continue;
                }
                Ok(t) => {
                    let whole_records = ends.iter().filter(|&&e| e <= cut as u64).count();
                    assert_eq!(t.records, whole.records[..whole_records], "cut {cut}");
                    if ends.contains(&(cut as u64)) || cut as u64 == header_end {
                        assert_eq!(t.stop, ReadStop::End, "cut {cut}");
                    } else {
                        let at = t.stop.at_byte().unwrap();
                        assert!(matches!(t.stop, ReadStop::Truncated { .. }), "cut {cut}: {}", t.stop);
                        assert_eq!(at, if whole_records == 0 { header_end } else { ends[whole_records - 1] });
                        assert!(t.stop.to_string().starts_with("truncated in record"), "{}", t.stop);
                    }
                }
            }
        }
    }

    #[test]
    fn damage_is_located_and_named() {
        let bytes = sample_bytes();
        let (_, mut r) = TraceReader::with_header(bytes.as_slice()).unwrap();
        let (second, _) = r.next_record().unwrap();
        // Flip a byte inside the second record (the first after the header).
        let mut damaged = bytes.clone();
        damaged[(second.offset + 6) as usize] ^= 0x40;
        let t = Trace::from_reader(damaged.as_slice()).unwrap();
        assert!(t.records.is_empty());
        assert_eq!(t.stop, ReadStop::Checksum { record: 2, at: second.offset });
        assert_eq!(
            t.stop.to_string(),
            format!("checksum mismatch in record 2 at byte {}: the record is damaged", second.offset)
        );
        // An unknown type with a valid checksum.
        let mut w = TraceWriter::new(Vec::new()).unwrap();
        w.write(&Record::Header(Box::new(sample_header()))).unwrap();
        let at = w.bytes();
        let mut frame = vec![2, 0, 0, 0, 77, 0];
        let crc = crc32fast::hash(&frame);
        frame.extend_from_slice(&crc.to_le_bytes());
        let mut bytes = w.into_inner();
        bytes.extend_from_slice(&frame);
        let t = Trace::from_reader(bytes.as_slice()).unwrap();
        assert_eq!(t.stop, ReadStop::UnknownType { record: 2, at, type_byte: 77 });
        // A huge length is refused without allocating it.
        let mut huge = bytes[..at as usize].to_vec();
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        let t = Trace::from_reader(huge.as_slice()).unwrap();
        assert!(matches!(t.stop, ReadStop::TooLong { record: 2, .. }), "{}", t.stop);
    }

    #[test]
    fn versions_and_magic_are_checked() {
        let mut bytes = sample_bytes();
        bytes[8] = 7;
        bytes[9] = 0;
        let e = Trace::from_reader(bytes.as_slice()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "trace format version 7 is newer than this slotscope understands (3); use a newer slotscope"
        );
        bytes[8] = 0;
        assert!(matches!(Trace::from_reader(bytes.as_slice()), Err(TraceError::BadVersion { found: 0 })));
        let e = Trace::from_reader(&b"name = \"x\"\n"[..]).unwrap_err();
        assert!(matches!(e, TraceError::NotATrace { .. }), "{e}");
        assert!(e.to_string().starts_with("not a slotscope trace"));
        assert!(matches!(Trace::from_reader(&b""[..]), Err(TraceError::NotATrace { .. })));
    }

    #[test]
    fn index_finds_events_times_and_snapshots() {
        let bytes = sample_bytes();
        let mut r = TraceReader::with_header(std::io::Cursor::new(bytes.clone())).unwrap().1;
        let index = TraceIndex::build(&mut r);
        assert_eq!(index.events, 9);
        assert_eq!(index.entries.len(), sample_records().len());
        let e = index.record_of_event(4).unwrap();
        assert_eq!(e.record_type, RecordType::Ops);
        assert_eq!((e.first_event, e.events), (0, 9));
        assert!(index.record_of_event(9).is_none());
        let s = index.snapshot_before(2500).unwrap();
        assert_eq!(s.t_min, 2000);
        assert!(index.snapshot_before(1999).is_none());
        // Seek back to the snapshot and read it again.
        r.seek_to(s.pos).unwrap();
        let (pos, rec) = r.next_record().unwrap();
        assert_eq!(pos, s.pos);
        assert!(matches!(rec, Record::Snapshot(ref s) if s.started_ns == 2000));
    }
}
