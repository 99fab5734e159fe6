//! The table's shape in a trace (capacity, layout, line size, variant), shared by the records
//! that describe a table and the snapshots that carry one.

use slotscope_table::{Geometry, Layout, Variant};

use super::codec::{Dec, DecodeError, Enc};

pub(crate) fn decode_layout(d: &mut Dec<'_>) -> Result<Layout, DecodeError> {
    let s = d.str()?;
    s.parse().map_err(|e| d.err(format!("{e}")))
}

pub(crate) fn decode_variant(d: &mut Dec<'_>) -> Result<Variant, DecodeError> {
    let s = d.str()?;
    s.parse().map_err(|e| d.err(format!("{e}")))
}

pub(crate) fn encode_geometry(g: Option<Geometry>, e: &mut Enc) {
    match g {
        None => e.u8(0),
        Some(g) => {
            e.u8(1);
            e.varint(u64::from(g.capacity_log2()));
            e.str(g.layout().name());
            e.varint(g.line_bytes() as u64);
        }
    }
}

pub(crate) fn decode_geometry(d: &mut Dec<'_>) -> Result<Option<Geometry>, DecodeError> {
    if !d.bool()? {
        return Ok(None);
    }
    let log2 = d.varint()?;
    let layout = decode_layout(d)?;
    let line = d.varint()?;
    if !(4..=27).contains(&log2) {
        return Err(d.err(format!("capacity 2^{log2} is out of range")));
    }
    let line = usize::try_from(line).map_err(|_| d.err("line size out of range"))?;
    Geometry::new(1 << log2, layout, line).map(Some).map_err(|e| d.err(e.to_string()))
}
