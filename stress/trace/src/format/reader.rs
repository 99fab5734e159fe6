//! Reads a trace record by record, stopping cleanly at the last whole record of a truncated or
//! damaged file and saying where and why; an index for seeking by event number or time.

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::codec::DecodeError;
use super::record::{Record, RecordType, TraceHeader};
use super::{FORMAT_VERSION, MAGIC, MAX_RECORD_BYTES, PROLOGUE_BYTES};

/// Why a trace cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The file could not be opened or read.
    #[error("cannot read the trace: {0}")]
    Io(io::Error),
    /// The file does not start with the trace magic.
    #[error(
        "not a slotscope trace: it starts with {found:02x?}, a trace starts with {MAGIC:02x?} (written by `slotscope run --record FILE`)"
    )]
    NotATrace {
        /// The first bytes found (at most 8).
        found: Vec<u8>,
    },
    /// The format version is newer than this build understands.
    #[error(
        "trace format version {found} is newer than this slotscope understands ({FORMAT_VERSION}); use a newer slotscope"
    )]
    NewerVersion {
        /// The version in the file.
        found: u16,
    },
    /// The format version is 0 (never written by any slotscope).
    #[error("trace format version {found} is not a version any slotscope wrote")]
    BadVersion {
        /// The version in the file.
        found: u16,
    },
    /// The first record is not a whole, valid header.
    #[error("{}", no_header_text(.0))]
    NoHeader(ReadStop),
    /// The records contradict one another (damaged, or made by hand).
    #[error("the trace contradicts itself: {0}")]
    Inconsistent(String),
}

impl From<io::Error> for TraceError {
    fn from(e: io::Error) -> Self {
        TraceError::Io(e)
    }
}

/// Where a record lies in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordPos {
    /// 1-based number of the record (the header is record 1).
    pub number: u64,
    /// Byte offset of its length field.
    pub offset: u64,
    /// Bytes it takes, framing included.
    pub bytes: u64,
}

/// Why reading stopped. Everything before it was whole and valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadStop {
    /// The file ended exactly after a whole record.
    End,
    /// The file ends inside record `record`, which starts at byte `at`.
    Truncated {
        /// 1-based record number.
        record: u64,
        /// Byte offset where the record starts.
        at: u64,
        /// What was missing.
        detail: String,
    },
    /// The record's checksum does not match its bytes.
    Checksum {
        /// 1-based record number.
        record: u64,
        /// Byte offset where the record starts.
        at: u64,
    },
    /// The record's length field is beyond any record this format writes.
    TooLong {
        /// 1-based record number.
        record: u64,
        /// Byte offset where the record starts.
        at: u64,
        /// The length found.
        len: u64,
    },
    /// The record's length field is 0 (a record has at least its type byte).
    ZeroLength {
        /// 1-based record number.
        record: u64,
        /// Byte offset where the record starts.
        at: u64,
    },
    /// The record's type byte is not one this build knows.
    UnknownType {
        /// 1-based record number.
        record: u64,
        /// Byte offset where the record starts.
        at: u64,
        /// The type byte.
        type_byte: u8,
    },
    /// The record's checksum matched but its body does not decode.
    Malformed {
        /// 1-based record number.
        record: u64,
        /// Byte offset where the record starts.
        at: u64,
        /// Its type.
        record_type: RecordType,
        /// What was wrong.
        error: DecodeError,
    },
    /// Reading failed.
    Io {
        /// 1-based record number.
        record: u64,
        /// Byte offset where the record starts.
        at: u64,
        /// The error.
        error: String,
    },
}

impl ReadStop {
    /// Whether the file ended cleanly at a record boundary.
    pub fn is_clean(&self) -> bool {
        matches!(self, ReadStop::End)
    }

    /// The byte offset where reading stopped (`None` for a clean end).
    pub fn at_byte(&self) -> Option<u64> {
        match self {
            ReadStop::End => None,
            ReadStop::Truncated { at, .. }
            | ReadStop::Checksum { at, .. }
            | ReadStop::TooLong { at, .. }
            | ReadStop::ZeroLength { at, .. }
            | ReadStop::UnknownType { at, .. }
            | ReadStop::Malformed { at, .. }
            | ReadStop::Io { at, .. } => Some(*at),
        }
    }
}

fn no_header_text(stop: &ReadStop) -> String {
    match stop {
        ReadStop::End => format!(
            "the trace has no header: the file ends after its {PROLOGUE_BYTES}-byte prologue, before any record"
        ),
        other => format!("the trace has no readable header: {other}"),
    }
}

impl fmt::Display for ReadStop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadStop::End => f.write_str("the file ends after a whole record"),
            ReadStop::Truncated { record, at, detail } => {
                write!(f, "truncated in record {record} at byte {at}: {detail}")
            }
            ReadStop::Checksum { record, at } => {
                write!(f, "checksum mismatch in record {record} at byte {at}: the record is damaged")
            }
            ReadStop::TooLong { record, at, len } => write!(
                f,
                "record {record} at byte {at} claims {len} bytes, more than any record ({MAX_RECORD_BYTES}): \
                 the file is damaged"
            ),
            ReadStop::ZeroLength { record, at } => {
                write!(f, "record {record} at byte {at} has length 0: the file is damaged")
            }
            ReadStop::UnknownType { record, at, type_byte } => write!(
                f,
                "unknown record type {type_byte} in record {record} at byte {at} (written by a newer \
                 slotscope, or damaged)"
            ),
            ReadStop::Malformed { record, at, record_type, error } => {
                write!(f, "malformed {record_type} record {record} at byte {at}: {error}")
            }
            ReadStop::Io { record, at, error } => {
                write!(f, "read error in record {record} at byte {at}: {error}")
            }
        }
    }
}

/// Reads records one by one. After the last whole record, [`TraceReader::next_record`] returns
/// `None` and [`TraceReader::stop`] says why.
#[derive(Debug)]
pub struct TraceReader<R> {
    input: R,
    offset: u64,
    number: u64,
    stop: Option<ReadStop>,
    body: Vec<u8>,
}

impl TraceReader<BufReader<File>> {
    /// Opens `path` and reads its prologue and header.
    ///
    /// # Errors
    /// [`TraceError`] if the file cannot be read, is not a trace, has an unknown version, or
    /// has no whole header.
    pub fn open(path: &Path) -> Result<(TraceHeader, Self), TraceError> {
        let file = File::open(path)?;
        TraceReader::with_header(BufReader::with_capacity(1 << 16, file))
    }
}

impl<R: Read> TraceReader<R> {
    /// Reads and checks the prologue (magic and version) of `input`.
    ///
    /// # Errors
    /// As [`TraceReader::open`], except for the header.
    pub fn new(mut input: R) -> Result<Self, TraceError> {
        let mut prologue = [0u8; PROLOGUE_BYTES];
        let got = read_up_to(&mut input, &mut prologue)?;
        let magic_seen = got.min(MAGIC.len());
        if prologue[..magic_seen] != MAGIC[..magic_seen] || got < MAGIC.len() {
            return Err(TraceError::NotATrace { found: prologue[..magic_seen].to_vec() });
        }
        if got < PROLOGUE_BYTES {
            return Err(TraceError::NoHeader(ReadStop::Truncated {
                record: 1,
                at: got as u64,
                detail: "the file ends inside the format version".to_owned(),
            }));
        }
        let version = u16::from_le_bytes([prologue[8], prologue[9]]);
        if version > FORMAT_VERSION {
            return Err(TraceError::NewerVersion { found: version });
        }
        if version == 0 {
            return Err(TraceError::BadVersion { found: version });
        }
        Ok(TraceReader { input, offset: PROLOGUE_BYTES as u64, number: 0, stop: None, body: Vec::new() })
    }

    /// [`TraceReader::new`], then the header record.
    ///
    /// # Errors
    /// As [`TraceReader::open`].
    pub fn with_header(input: R) -> Result<(TraceHeader, Self), TraceError> {
        let mut reader = TraceReader::new(input)?;
        match reader.next_record() {
            Some((_, Record::Header(h))) => Ok((*h, reader)),
            Some((pos, other)) => Err(TraceError::NoHeader(ReadStop::Malformed {
                record: pos.number,
                at: pos.offset,
                record_type: other.record_type(),
                error: DecodeError { at: 0, what: "the first record must be the header".to_owned() },
            })),
            None => Err(TraceError::NoHeader(reader.stop.clone().unwrap_or(ReadStop::End))),
        }
    }

    /// The next whole, valid record, or `None` (then see [`TraceReader::stop`]).
    pub fn next_record(&mut self) -> Option<(RecordPos, Record)> {
        if self.stop.is_some() {
            return None;
        }
        match self.read_one() {
            Ok(r) => Some(r),
            Err(stop) => {
                self.stop = Some(stop);
                None
            }
        }
    }

    /// Why reading stopped (`None` while it has not).
    pub fn stop(&self) -> Option<&ReadStop> {
        self.stop.as_ref()
    }

    /// Byte offset of the next record.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Records read so far.
    pub fn records_read(&self) -> u64 {
        self.number
    }

    fn read_one(&mut self) -> Result<(RecordPos, Record), ReadStop> {
        let number = self.number + 1;
        let at = self.offset;
        let io_stop = |e: io::Error| ReadStop::Io { record: number, at, error: e.to_string() };
        let mut len_bytes = [0u8; 4];
        let got = read_up_to(&mut self.input, &mut len_bytes).map_err(io_stop)?;
        if got == 0 {
            return Err(ReadStop::End);
        }
        if got < 4 {
            return Err(ReadStop::Truncated {
                record: number,
                at,
                detail: format!("the file ends after {got} of the 4 bytes of its length"),
            });
        }
        let len = u32::from_le_bytes(len_bytes);
        if len > MAX_RECORD_BYTES {
            return Err(ReadStop::TooLong { record: number, at, len: u64::from(len) });
        }
        if len == 0 {
            return Err(ReadStop::ZeroLength { record: number, at });
        }
        // Read through `take`: the buffer grows with the bytes that really arrive, so a length
        // field pointing past the end of a truncated file never allocates that much.
        self.body.clear();
        let want = u64::from(len) + 4;
        let got = (&mut self.input).take(want).read_to_end(&mut self.body).map_err(io_stop)? as u64;
        if got < want {
            return Err(ReadStop::Truncated {
                record: number,
                at,
                detail: format!("its length says {len} bytes and a 4-byte checksum, only {got} bytes follow"),
            });
        }
        let (content, crc_bytes) = self.body.split_at(len as usize);
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&len_bytes);
        hasher.update(content);
        let crc = u32::from_le_bytes([crc_bytes[0], crc_bytes[1], crc_bytes[2], crc_bytes[3]]);
        if hasher.finalize() != crc {
            return Err(ReadStop::Checksum { record: number, at });
        }
        let type_byte = content[0];
        let record_type =
            RecordType::from_u8(type_byte).ok_or(ReadStop::UnknownType { record: number, at, type_byte })?;
        let record = Record::decode_body(record_type, &content[1..])
            .map_err(|error| ReadStop::Malformed { record: number, at, record_type, error })?;
        if number > 1 && record_type == RecordType::Header {
            return Err(ReadStop::Malformed {
                record: number,
                at,
                record_type,
                error: DecodeError { at: 0, what: "a second header".to_owned() },
            });
        }
        let bytes = 4 + want;
        self.number = number;
        self.offset += bytes;
        Ok((RecordPos { number, offset: at, bytes }, record))
    }
}

impl<R: Read + Seek> TraceReader<R> {
    /// Continues reading at the record at `pos` (from a [`TraceIndex`]): the next
    /// [`TraceReader::next_record`] returns it. A stop seen earlier is forgotten.
    ///
    /// # Errors
    /// Any seek error.
    pub fn seek_to(&mut self, pos: RecordPos) -> io::Result<()> {
        self.input.seek(SeekFrom::Start(pos.offset))?;
        self.offset = pos.offset;
        self.number = pos.number - 1;
        self.stop = None;
        Ok(())
    }
}

/// Fills `buf` as far as the input goes; how many bytes it got.
fn read_up_to<R: Read>(input: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// A whole trace in memory: the header, every whole record, and why reading stopped.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// The header.
    pub header: TraceHeader,
    /// Every record after the header, in file order.
    pub records: Vec<Record>,
    /// Why reading stopped (`ReadStop::End` for a whole file).
    pub stop: ReadStop,
}

impl Trace {
    /// Reads the whole file at `path`.
    ///
    /// # Errors
    /// As [`TraceReader::open`].
    pub fn load(path: &Path) -> Result<Trace, TraceError> {
        let (header, reader) = TraceReader::open(path)?;
        Ok(Trace::collect(header, reader))
    }

    /// Reads everything from `input`.
    ///
    /// # Errors
    /// As [`TraceReader::with_header`].
    pub fn from_reader<R: Read>(input: R) -> Result<Trace, TraceError> {
        let (header, reader) = TraceReader::with_header(input)?;
        Ok(Trace::collect(header, reader))
    }

    fn collect<R: Read>(header: TraceHeader, mut reader: TraceReader<R>) -> Trace {
        let mut records = Vec::new();
        while let Some((_, r)) = reader.next_record() {
            records.push(r);
        }
        Trace { header, records, stop: reader.stop().cloned().unwrap_or(ReadStop::End) }
    }

    /// Every op event, in file order (the position is the event number).
    pub fn events(&self) -> impl Iterator<Item = &crate::op::OpEvent> {
        self.records.iter().flat_map(|r| match r {
            Record::Ops(b) => b.events.as_slice(),
            _ => &[],
        })
    }
}

/// One record in a [`TraceIndex`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexEntry {
    /// Where it is.
    pub pos: RecordPos,
    /// Its type.
    pub record_type: RecordType,
    /// Event number of its first op (ops records), or of the next op to come (others).
    pub first_event: u64,
    /// Ops it holds.
    pub events: u32,
    /// Earliest timestamp in it (ops: first start; others: their own time), clock ns.
    pub t_min: u64,
    /// Latest timestamp in it, clock ns.
    pub t_max: u64,
}

/// Where each record is, built by one pass over the file: enough to seek by event number, by
/// time, and to the snapshot before a time, without keeping the events in memory (about 56
/// bytes per record; a record holds up to 4096 ops).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceIndex {
    /// Every record after the header, in file order.
    pub entries: Vec<IndexEntry>,
    /// Op events in the file.
    pub events: u64,
    /// Why the pass stopped.
    pub stop: ReadStop,
}

impl TraceIndex {
    /// Builds the index by reading every record once from a reader positioned after the
    /// header (as [`TraceReader::open`] leaves it).
    pub fn build<R: Read>(reader: &mut TraceReader<R>) -> TraceIndex {
        let mut index = TraceIndex { entries: Vec::new(), events: 0, stop: ReadStop::End };
        while let Some((pos, r)) = reader.next_record() {
            index.push(pos, &r);
        }
        index.stop = reader.stop().cloned().unwrap_or(ReadStop::End);
        index
    }

    /// Adds the record read at `pos` (the next in file order): for callers that read the file
    /// themselves and index it on the way. Set [`TraceIndex::stop`] when done.
    pub fn push(&mut self, pos: RecordPos, r: &Record) {
        // Frontier records say nothing a reader seeks by (there are thousands a second).
        if matches!(r, Record::Frontier(_)) {
            return;
        }
        let (n, t_min, t_max) = match r {
            Record::Ops(b) => (
                b.events.len(),
                b.events.iter().map(|e| e.start_ns).min().unwrap_or(0),
                b.events.iter().map(|e| e.end_ns).max().unwrap_or(0),
            ),
            Record::Drop(d) => (0, d.first_ns, d.last_ns),
            Record::Control(c) => (0, c.clock_ns, c.clock_ns),
            Record::TableBegin(t) => (0, t.clock_ns, t.clock_ns),
            Record::TableEnd(t) => (0, t.clock_ns, t.clock_ns),
            Record::ThreadStart(t) => (0, t.clock_ns, t.clock_ns),
            Record::ThreadEnd(t) => (0, t.clock_ns, t.clock_ns),
            Record::Snapshot(s) => (0, s.started_ns, s.ended_ns),
            Record::End(e) => (0, e.clock_ns, e.clock_ns),
            Record::Header(_) | Record::Frontier(_) => (0, 0, 0),
        };
        let events_here = u32::try_from(n).unwrap_or(u32::MAX);
        self.entries.push(IndexEntry {
            pos,
            record_type: r.record_type(),
            first_event: self.events,
            events: events_here,
            t_min,
            t_max,
        });
        self.events += n as u64;
    }

    /// The entry of the ops record that holds event `n`.
    pub fn record_of_event(&self, n: u64) -> Option<&IndexEntry> {
        let i = self.entries.partition_point(|e| e.first_event + u64::from(e.events) <= n);
        self.entries.get(i).filter(|e| e.events > 0 && e.first_event <= n)
    }

    /// The first record from which reading on sees every op that ends at or after `t`:
    /// records are written as threads' buffers drain, so their times overlap; this is the
    /// first record whose latest time reaches `t`.
    pub fn first_record_reaching(&self, t: u64) -> Option<&IndexEntry> {
        self.entries.iter().find(|e| e.t_max >= t)
    }

    /// The last periodic (or end) snapshot whose scan started at or before `t`.
    pub fn snapshot_before(&self, t: u64) -> Option<&IndexEntry> {
        self.entries.iter().rev().find(|e| e.record_type == RecordType::Snapshot && e.t_min <= t)
    }
}
