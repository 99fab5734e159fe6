//! Byte-level encoding: LEB128 varints, zigzag for signed deltas, length-prefixed strings.
//!
//! The decoder never trusts a length it reads: every `take` is checked against the bytes that
//! are left, so a corrupt length gives an error, never a huge allocation or a panic.

/// Appends encoded values to a byte buffer.
#[derive(Debug, Default)]
pub(crate) struct Enc {
    pub(crate) buf: Vec<u8>,
}

impl Enc {
    pub(crate) fn new() -> Self {
        Enc { buf: Vec::new() }
    }

    #[inline]
    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    #[inline]
    pub(crate) fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            // Truncation is the point: the low 7 bits with the continuation bit.
            #[allow(clippy::cast_possible_truncation)]
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        #[allow(clippy::cast_possible_truncation)]
        self.buf.push(v as u8);
    }

    #[inline]
    pub(crate) fn signed(&mut self, v: i64) {
        self.varint(zigzag(v));
    }

    /// `v - reference` as a zigzag varint (wrapping, so any pair of u64 round-trips).
    #[inline]
    pub(crate) fn delta(&mut self, v: u64, reference: u64) {
        // Reinterpreting the wrapped difference as signed is the point.
        #[allow(clippy::cast_possible_wrap)]
        self.signed(v.wrapping_sub(reference) as i64);
    }

    pub(crate) fn u64_le(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn f64(&mut self, v: f64) {
        self.u64_le(v.to_bits());
    }

    pub(crate) fn bool(&mut self, v: bool) {
        self.u8(u8::from(v));
    }

    pub(crate) fn str(&mut self, s: &str) {
        self.varint(s.len() as u64);
        self.buf.extend_from_slice(s.as_bytes());
    }

    pub(crate) fn opt_varint(&mut self, v: Option<u64>) {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                self.varint(v);
            }
        }
    }
}

/// Zigzag: small magnitudes of either sign become small unsigned numbers.
#[inline]
pub(crate) const fn zigzag(v: i64) -> u64 {
    // The shifts reinterpret bits on purpose.
    #[allow(clippy::cast_sign_loss)]
    let r = ((v << 1) ^ (v >> 63)) as u64;
    r
}

/// The inverse of [`zigzag`].
#[inline]
pub(crate) const fn unzigzag(v: u64) -> i64 {
    #[allow(clippy::cast_possible_wrap)]
    let r = ((v >> 1) as i64) ^ -((v & 1) as i64);
    r
}

/// Why a record's body could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{what} (at offset {at} of the record body)")]
pub struct DecodeError {
    /// Offset within the record body.
    pub at: usize,
    /// What was wrong.
    pub what: String,
}

/// Reads encoded values from a byte slice, with bounds checks everywhere.
#[derive(Debug)]
pub(crate) struct Dec<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Dec<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Dec { buf, pos: 0 }
    }

    pub(crate) fn err(&self, what: impl Into<String>) -> DecodeError {
        DecodeError { at: self.pos, what: what.into() }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    #[inline]
    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        let b = *self.buf.get(self.pos).ok_or_else(|| self.err("unexpected end of record"))?;
        self.pos += 1;
        Ok(b)
    }

    #[inline]
    pub(crate) fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut v: u64 = 0;
        let mut shift = 0u32;
        loop {
            let b = self.u8()?;
            if shift == 63 && b > 1 {
                return Err(self.err("varint overflows 64 bits"));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
            shift += 7;
            if shift > 63 {
                return Err(self.err("varint longer than 10 bytes"));
            }
        }
    }

    #[inline]
    pub(crate) fn signed(&mut self) -> Result<i64, DecodeError> {
        Ok(unzigzag(self.varint()?))
    }

    #[inline]
    pub(crate) fn delta(&mut self, reference: u64) -> Result<u64, DecodeError> {
        // Reinterpreting the signed difference is the inverse of `Enc::delta`.
        #[allow(clippy::cast_sign_loss)]
        Ok(reference.wrapping_add(self.signed()? as u64))
    }

    /// A varint that must fit `u32` (thread indices, counts).
    pub(crate) fn varint_u32(&mut self) -> Result<u32, DecodeError> {
        let v = self.varint()?;
        u32::try_from(v).map_err(|_| self.err(format!("value {v} is too large")))
    }

    /// A count of items that each take at least `min_bytes`: checked against what is left,
    /// so that a corrupt count never makes the caller allocate.
    pub(crate) fn count(&mut self, min_bytes: usize) -> Result<usize, DecodeError> {
        let v = self.varint()?;
        let left = self.remaining() / min_bytes.max(1);
        usize::try_from(v)
            .ok()
            .filter(|&n| n <= left)
            .ok_or_else(|| self.err(format!("count {v} exceeds what the record can hold")))
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(self.err(format!("{n} bytes wanted, {} left", self.remaining())));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub(crate) fn u64_le(&mut self) -> Result<u64, DecodeError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    pub(crate) fn f64(&mut self) -> Result<f64, DecodeError> {
        Ok(f64::from_bits(self.u64_le()?))
    }

    pub(crate) fn bool(&mut self) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(self.err(format!("byte {b} is not a boolean"))),
        }
    }

    pub(crate) fn str(&mut self) -> Result<String, DecodeError> {
        let n = self.count(1)?;
        let bytes = self.take(n)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| self.err("text is not UTF-8"))
    }

    pub(crate) fn opt_varint(&mut self) -> Result<Option<u64>, DecodeError> {
        Ok(if self.bool()? { Some(self.varint()?) } else { None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_the_edges() {
        let values = [0, 1, 127, 128, 255, 16_383, 16_384, u64::from(u32::MAX), u64::MAX - 1, u64::MAX];
        let mut e = Enc::new();
        for v in values {
            e.varint(v);
        }
        let mut d = Dec::new(&e.buf);
        for v in values {
            assert_eq!(d.varint().unwrap(), v);
        }
        assert!(d.is_empty());
        // u64::MAX takes exactly 10 bytes.
        let mut e = Enc::new();
        e.varint(u64::MAX);
        assert_eq!(e.buf.len(), 10);
    }

    #[test]
    fn zigzag_and_deltas() {
        for v in [0i64, 1, -1, 63, -64, i64::MAX, i64::MIN] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
        let mut e = Enc::new();
        e.delta(5, 10);
        e.delta(u64::MAX, 0);
        e.delta(0, u64::MAX);
        let mut d = Dec::new(&e.buf);
        assert_eq!(d.delta(10).unwrap(), 5);
        assert_eq!(d.delta(0).unwrap(), u64::MAX);
        assert_eq!(d.delta(u64::MAX).unwrap(), 0);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        // Eleven continuation bytes.
        let mut d = Dec::new(&[0xff; 11]);
        assert!(d.varint().is_err());
        // A 10-byte varint whose last byte carries more than one bit.
        let mut d = Dec::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]);
        assert!(d.varint().is_err());
        // A string length far beyond the buffer.
        let mut e = Enc::new();
        e.varint(1 << 40);
        let mut d = Dec::new(&e.buf);
        let err = d.str().unwrap_err();
        assert!(err.what.contains("exceeds"), "{err}");
        assert!(Dec::new(&[2]).bool().is_err());
        assert!(Dec::new(&[]).u8().is_err());
    }
}
