//! Table snapshots in a trace: geometry, variant, header counters, then one varint per slot
//! and one per ring cell.
//!
//! A slot whose key is the one its position implies (its own slot bits and the table's
//! capacity tag) costs `varint(generation << 2 | state)`; anything else (which a broken
//! variant might produce) is escaped with its raw key. Ring cells store `0` for RESERVED, the
//! key without its capacity tag plus 2 otherwise, or `1` and the raw key.

use slotscope_table::{Key, SlotState, Snapshot};

use super::codec::{Dec, DecodeError, Enc};
use super::geometry::{decode_geometry, encode_geometry};

const FREE: u64 = 0;
const RESERVED: u64 = 1;
const OCCUPIED: u64 = 2;
const ESCAPE: u64 = 3;

fn state_code(s: SlotState) -> u64 {
    match s {
        SlotState::Free => FREE,
        SlotState::Reserved => RESERVED,
        SlotState::Occupied => OCCUPIED,
    }
}

fn state_of(code: u64) -> Option<SlotState> {
    match code {
        FREE => Some(SlotState::Free),
        RESERVED => Some(SlotState::Reserved),
        OCCUPIED => Some(SlotState::Occupied),
        _ => None,
    }
}

pub(crate) fn encode_snapshot(s: &Snapshot, e: &mut Enc) {
    let g = s.geometry();
    encode_geometry(Some(g), e);
    e.str(s.variant().name());
    e.varint(s.count());
    e.varint(s.alloc_cursor());
    e.varint(s.free_cursor());
    let log2 = g.capacity_log2();
    let tag = u64::from(log2) << 59;
    for i in 0..g.capacity() {
        let info = s.slot(i);
        match (info.state, info.key) {
            (SlotState::Reserved, _) => e.varint(RESERVED),
            (state, Some(k)) if k.slot() == i && k.capacity_log2() == log2 => {
                e.varint((k.generation() << 2) | state_code(state));
            }
            (state, k) => {
                e.varint(ESCAPE);
                // Two bits.
                #[allow(clippy::cast_possible_truncation)]
                e.u8(state_code(state) as u8);
                e.varint(k.map_or(0, Key::bits));
            }
        }
    }
    for r in 0..g.capacity() {
        match s.ring_cell(r) {
            None => e.varint(0),
            Some(k) if k.bits() >> 59 == u64::from(log2) => e.varint((k.bits() ^ tag) + 2),
            Some(k) => {
                e.varint(1);
                e.varint(k.bits());
            }
        }
    }
}

pub(crate) fn decode_snapshot(d: &mut Dec<'_>) -> Result<Snapshot, DecodeError> {
    let g = decode_geometry(d)?.ok_or_else(|| d.err("a snapshot needs a geometry"))?;
    let variant = d.str()?.parse().map_err(|e| d.err(format!("{e}")))?;
    let count = d.varint()?;
    let alloc = d.varint()?;
    let free = d.varint()?;
    let n = g.capacity();
    // Every slot and every cell takes at least one byte: check before allocating N of each.
    if n.saturating_mul(2) > d.remaining() {
        return Err(d.err(format!("a snapshot of {n} slots needs at least {} more bytes", n * 2)));
    }
    let log2 = g.capacity_log2();
    let tag = u64::from(log2) << 59;
    let mut s = Snapshot::fresh(g);
    s.set_variant(variant);
    s.set_header(count, alloc, free);
    for i in 0..n {
        let v = d.varint()?;
        if v == ESCAPE {
            let state = state_of(u64::from(d.u8()?)).ok_or_else(|| d.err("unknown slot state"))?;
            let raw = d.varint()?;
            s.set_slot(i, state, Some(Key::from_bits(raw)));
            continue;
        }
        let state = state_of(v & 3).ok_or_else(|| d.err("unknown slot state"))?;
        let generation = v >> 2;
        if state == SlotState::Reserved {
            s.set_slot(i, state, None);
        } else {
            if generation > g.max_generation() {
                return Err(d.err(format!("generation {generation} does not fit a key of this table")));
            }
            s.set_slot(i, state, Some(Key::from_bits(tag | (generation << log2) | i as u64)));
        }
    }
    for r in 0..n {
        let v = d.varint()?;
        let cell = match v {
            0 => None,
            1 => Some(Key::from_bits(d.varint()?)),
            v => Some(Key::from_bits((v - 2) ^ tag)),
        };
        s.set_ring_cell(r, cell);
    }
    Ok(s)
}
