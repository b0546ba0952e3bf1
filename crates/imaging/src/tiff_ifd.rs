//! A small, bounds-checked TIFF/DNG IFD reader: byte order, IFD chains, SubIFDs and EXIF IFDs,
//! typed tag values. Every offset is checked against the buffer; loops are bounded, so corrupt
//! files give an error, never a panic or an endless walk.

use crate::ImagingError;
use std::collections::BTreeMap;

/// IFDs deeper or more numerous than this are refused (real DNGs have a handful).
const MAX_IFDS: usize = 64;
const MAX_ENTRIES: usize = 4096;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Ints(Vec<u64>),
    Signed(Vec<i64>),
    Reals(Vec<f64>),
    Ascii(String),
    Bytes(Vec<u8>),
}

impl Value {
    pub fn as_u64s(&self) -> Option<Vec<u64>> {
        match self {
            Value::Ints(v) => Some(v.clone()),
            Value::Bytes(b) => Some(b.iter().map(|x| *x as u64).collect()),
            Value::Signed(v) => v.iter().map(|x| u64::try_from(*x).ok()).collect(),
            _ => None,
        }
    }
    pub fn as_f64s(&self) -> Option<Vec<f64>> {
        match self {
            Value::Ints(v) => Some(v.iter().map(|x| *x as f64).collect()),
            Value::Signed(v) => Some(v.iter().map(|x| *x as f64).collect()),
            Value::Reals(v) => Some(v.clone()),
            Value::Bytes(b) => Some(b.iter().map(|x| *x as f64).collect()),
            Value::Ascii(_) => None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Ifd {
    pub tags: BTreeMap<u16, Value>,
}

fn fmt_err(what: impl Into<String>) -> ImagingError {
    ImagingError::Format { what: what.into() }
}

impl Ifd {
    pub fn get(&self, tag: u16) -> Option<&Value> {
        self.tags.get(&tag)
    }
    pub fn u64(&self, tag: u16) -> Option<u64> {
        self.get(tag)?.as_u64s()?.first().copied()
    }
    pub fn u64s(&self, tag: u16) -> Option<Vec<u64>> {
        self.get(tag)?.as_u64s()
    }
    pub fn f64s(&self, tag: u16) -> Option<Vec<f64>> {
        self.get(tag)?.as_f64s()
    }
    pub fn text(&self, tag: u16) -> Option<String> {
        match self.get(tag)? {
            Value::Ascii(s) => Some(s.clone()),
            Value::Bytes(b) => {
                let end = b.iter().position(|c| *c == 0).unwrap_or(b.len());
                Some(String::from_utf8_lossy(&b[..end]).trim().to_string())
            }
            _ => None,
        }
        .filter(|s| !s.is_empty())
    }
    /// A required integer tag, with an error naming it.
    pub fn need(&self, tag: u16, name: &str) -> Result<u64, ImagingError> {
        self.u64(tag)
            .ok_or_else(|| fmt_err(format!("DNG raw IFD lacks the {name} tag ({tag})")))
    }
}

pub struct Tiff<'a> {
    pub bytes: &'a [u8],
    pub big_endian: bool,
}

impl<'a> Tiff<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<(Self, u64), ImagingError> {
        let head = bytes.get(0..8).ok_or_else(|| {
            fmt_err(format!(
                "file is {} bytes, too short for a TIFF header",
                bytes.len()
            ))
        })?;
        let big_endian = match &head[0..2] {
            b"II" => false,
            b"MM" => true,
            other => {
                return Err(fmt_err(format!(
                    "not a TIFF/DNG file (byte-order mark {other:02x?})"
                )))
            }
        };
        let t = Tiff { bytes, big_endian };
        if t.u16_at(2)? != 42 {
            return Err(fmt_err("not a TIFF/DNG file (magic number is not 42)"));
        }
        let first = t.u32_at(4)? as u64;
        Ok((t, first))
    }

    pub fn slice(&self, offset: u64, len: u64, what: &str) -> Result<&'a [u8], ImagingError> {
        let end = offset
            .checked_add(len)
            .ok_or_else(|| fmt_err(format!("{what}: offset overflow")))?;
        if end > self.bytes.len() as u64 {
            return Err(fmt_err(format!(
                "truncated file: {what} needs bytes {offset}..{end}, the file has {}",
                self.bytes.len()
            )));
        }
        Ok(&self.bytes[offset as usize..end as usize])
    }

    pub fn u16_at(&self, at: u64) -> Result<u16, ImagingError> {
        let s: [u8; 2] = self
            .slice(at, 2, "TIFF field")?
            .try_into()
            .expect("2 bytes");
        Ok(if self.big_endian {
            u16::from_be_bytes(s)
        } else {
            u16::from_le_bytes(s)
        })
    }

    pub fn u32_at(&self, at: u64) -> Result<u32, ImagingError> {
        let s: [u8; 4] = self
            .slice(at, 4, "TIFF field")?
            .try_into()
            .expect("4 bytes");
        Ok(if self.big_endian {
            u32::from_be_bytes(s)
        } else {
            u32::from_le_bytes(s)
        })
    }

    fn u64_at(&self, at: u64) -> Result<u64, ImagingError> {
        let s: [u8; 8] = self
            .slice(at, 8, "TIFF field")?
            .try_into()
            .expect("8 bytes");
        Ok(if self.big_endian {
            u64::from_be_bytes(s)
        } else {
            u64::from_le_bytes(s)
        })
    }

    /// Reads one IFD; returns it and the offset of the next one (0 = none).
    pub fn read_ifd(&self, offset: u64) -> Result<(Ifd, u64), ImagingError> {
        let n = self.u16_at(offset)? as usize;
        if n == 0 || n > MAX_ENTRIES {
            return Err(fmt_err(format!("IFD at {offset} claims {n} entries")));
        }
        let mut ifd = Ifd::default();
        for i in 0..n {
            let e = offset + 2 + 12 * i as u64;
            let tag = self.u16_at(e)?;
            let typ = self.u16_at(e + 2)?;
            let count = self.u32_at(e + 4)? as u64;
            let size = match typ {
                1 | 2 | 6 | 7 => 1,
                3 | 8 => 2,
                4 | 9 | 11 | 13 => 4,
                5 | 10 | 12 => 8,
                _ => continue, // unknown types are skipped, as TIFF readers must
            };
            let total = count
                .checked_mul(size)
                .ok_or_else(|| fmt_err(format!("tag {tag}: count overflow")))?;
            if total > self.bytes.len() as u64 {
                return Err(fmt_err(format!(
                    "tag {tag} claims {total} bytes, more than the file"
                )));
            }
            let data_at = if total <= 4 {
                e + 8
            } else {
                self.u32_at(e + 8)? as u64
            };
            self.slice(data_at, total, "tag data")?;
            let value = match typ {
                2 => {
                    let raw = self.slice(data_at, total, "ASCII tag")?;
                    let end = raw.iter().position(|c| *c == 0).unwrap_or(raw.len());
                    Value::Ascii(String::from_utf8_lossy(&raw[..end]).trim().to_string())
                }
                1 | 7 => Value::Bytes(self.slice(data_at, total, "byte tag")?.to_vec()),
                6 => Value::Signed(
                    self.slice(data_at, total, "sbyte tag")?
                        .iter()
                        .map(|b| *b as i8 as i64)
                        .collect(),
                ),
                3 => Value::Ints(
                    (0..count)
                        .map(|k| self.u16_at(data_at + 2 * k).map(u64::from))
                        .collect::<Result<_, _>>()?,
                ),
                4 | 13 => Value::Ints(
                    (0..count)
                        .map(|k| self.u32_at(data_at + 4 * k).map(u64::from))
                        .collect::<Result<_, _>>()?,
                ),
                8 => Value::Signed(
                    (0..count)
                        .map(|k| self.u16_at(data_at + 2 * k).map(|v| v as i16 as i64))
                        .collect::<Result<_, _>>()?,
                ),
                9 => Value::Signed(
                    (0..count)
                        .map(|k| self.u32_at(data_at + 4 * k).map(|v| v as i32 as i64))
                        .collect::<Result<_, _>>()?,
                ),
                5 => Value::Reals(
                    (0..count)
                        .map(|k| {
                            let (n, d) = (
                                self.u32_at(data_at + 8 * k)?,
                                self.u32_at(data_at + 8 * k + 4)?,
                            );
                            Ok(if d == 0 { 0.0 } else { n as f64 / d as f64 })
                        })
                        .collect::<Result<_, ImagingError>>()?,
                ),
                10 => Value::Reals(
                    (0..count)
                        .map(|k| {
                            let (n, d) = (
                                self.u32_at(data_at + 8 * k)? as i32,
                                self.u32_at(data_at + 8 * k + 4)? as i32,
                            );
                            Ok(if d == 0 { 0.0 } else { n as f64 / d as f64 })
                        })
                        .collect::<Result<_, ImagingError>>()?,
                ),
                11 => Value::Reals(
                    (0..count)
                        .map(|k| {
                            self.u32_at(data_at + 4 * k)
                                .map(|v| f32::from_bits(v) as f64)
                        })
                        .collect::<Result<_, _>>()?,
                ),
                12 => Value::Reals(
                    (0..count)
                        .map(|k| self.u64_at(data_at + 8 * k).map(f64::from_bits))
                        .collect::<Result<_, _>>()?,
                ),
                _ => unreachable!("filtered above"),
            };
            ifd.tags.insert(tag, value);
        }
        let next = self.u32_at(offset + 2 + 12 * n as u64)? as u64;
        Ok((ifd, next))
    }

    /// Every IFD: the main chain, their SubIFDs (330) and EXIF IFDs (34665), breadth first.
    pub fn all_ifds(&self, first: u64) -> Result<Vec<Ifd>, ImagingError> {
        let mut out = Vec::new();
        let mut queue = std::collections::VecDeque::from([first]);
        let mut seen = std::collections::HashSet::new();
        while let Some(off) = queue.pop_front() {
            if off == 0 || !seen.insert(off) {
                continue;
            }
            if out.len() >= MAX_IFDS {
                return Err(fmt_err(format!(
                    "more than {MAX_IFDS} IFDs (corrupt or looping file)"
                )));
            }
            let (ifd, next) = self.read_ifd(off)?;
            for sub in ifd.u64s(330).unwrap_or_default() {
                queue.push_back(sub);
            }
            if let Some(exif) = ifd.u64(34665) {
                queue.push_back(exif);
            }
            queue.push_back(next);
            out.push(ifd);
        }
        Ok(out)
    }
}
