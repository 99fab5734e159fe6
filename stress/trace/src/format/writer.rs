//! Writes the prologue and framed records.

use std::io::{self, Write};

use super::codec::Enc;
use super::record::Record;
use super::{FORMAT_VERSION, MAGIC, MAX_RECORD_BYTES};

/// Writes a trace: the prologue on creation, then one framed record per [`TraceWriter::write`].
/// It does not buffer: give it a `BufWriter`.
#[derive(Debug)]
pub struct TraceWriter<W: Write> {
    out: W,
    bytes: u64,
    records: u64,
    scratch: Enc,
}

impl<W: Write> TraceWriter<W> {
    /// Writes the magic and the format version to `out`.
    ///
    /// # Errors
    /// Any error of `out`.
    pub fn new(mut out: W) -> io::Result<Self> {
        out.write_all(&MAGIC)?;
        out.write_all(&FORMAT_VERSION.to_le_bytes())?;
        Ok(TraceWriter { out, bytes: (MAGIC.len() + 2) as u64, records: 0, scratch: Enc::new() })
    }

    /// Encodes and writes one record: `len u32 LE | type u8 | body | crc32 u32 LE`, where
    /// `len` counts the type byte and the body and the CRC covers the length, type and body.
    /// Returns the bytes written.
    ///
    /// # Errors
    /// Any error of the output, or `InvalidData` for a record above
    /// [`MAX_RECORD_BYTES`] (nothing is written then).
    pub fn write(&mut self, record: &Record) -> io::Result<u64> {
        let n = self.prepare(record)?;
        self.commit()?;
        Ok(n)
    }

    /// Encodes one record without writing it; the bytes it will take. [`TraceWriter::commit`]
    /// writes it (so a caller can check a size limit first); another `prepare` discards it.
    ///
    /// # Errors
    /// `InvalidData` for a record above [`MAX_RECORD_BYTES`].
    pub fn prepare(&mut self, record: &Record) -> io::Result<u64> {
        self.scratch.buf.clear();
        self.scratch.buf.extend_from_slice(&[0; 4]);
        self.scratch.u8(record.record_type() as u8);
        record.encode_body(&mut self.scratch);
        let len = self.scratch.buf.len() - 4;
        let len32 = u32::try_from(len).ok().filter(|&l| l <= MAX_RECORD_BYTES).ok_or_else(|| {
            self.scratch.buf.clear();
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "a {} record of {len} bytes exceeds the limit of {MAX_RECORD_BYTES}",
                    record.record_type()
                ),
            )
        })?;
        self.scratch.buf[..4].copy_from_slice(&len32.to_le_bytes());
        let crc = crc32fast::hash(&self.scratch.buf);
        self.scratch.buf.extend_from_slice(&crc.to_le_bytes());
        Ok(self.scratch.buf.len() as u64)
    }

    /// Writes the record [`TraceWriter::prepare`] encoded (nothing if there is none).
    ///
    /// # Errors
    /// Any error of the output.
    pub fn commit(&mut self) -> io::Result<()> {
        if self.scratch.buf.is_empty() {
            return Ok(());
        }
        self.out.write_all(&self.scratch.buf)?;
        self.bytes += self.scratch.buf.len() as u64;
        self.records += 1;
        self.scratch.buf.clear();
        Ok(())
    }

    /// Bytes written so far, prologue included.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Records written so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Flushes the output.
    ///
    /// # Errors
    /// Any error of the output.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// The output back.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// The output.
    pub fn get_ref(&self) -> &W {
        &self.out
    }
}
