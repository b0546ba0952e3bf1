//! Image-sequence patterns as producers write them: `name.%07d.dng`, `name.#######.dng`,
//! `name.[000100-000250].dng`, or a folder holding one sequence.

use std::fmt;

/// Where a placeholder sits: start, end, padding and an embedded `[start-end]` range.
type Placeholder = (usize, usize, usize, Option<(u32, u32)>);

/// A parsed sequence pattern: `prefix` + zero-padded frame number + `suffix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipPattern {
    pub prefix: String,
    pub padding: usize,
    pub suffix: String,
    /// Frame range written into the pattern itself (`[000100-000250]`), if any.
    pub embedded_range: Option<(u32, u32)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClipPatternError {
    #[error("no frame-number placeholder (expected %0Nd, a run of #, or [start-end])")]
    NoPlaceholder,
    #[error("padding {0} is outside 1..=10 digits")]
    BadPadding(usize),
    #[error("malformed frame range in brackets: {0:?}")]
    BadRange(String),
    #[error("more than one frame-number placeholder")]
    TwoPlaceholders,
}

/// Frame numbers longer than 10 digits do not fit u32 anyway.
const MAX_PADDING: usize = 10;

impl ClipPattern {
    /// Parses a pattern; a folder (ends with `/`) is not a pattern and yields `NoPlaceholder`.
    pub fn parse(pattern: &str) -> Result<Self, ClipPatternError> {
        let mut found: Option<Placeholder> = None;
        let set = |found: &mut Option<_>, v| {
            if found.is_some() {
                Err(ClipPatternError::TwoPlaceholders)
            } else {
                *found = Some(v);
                Ok(())
            }
        };
        let bytes = pattern.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'%' => {
                    let rest = &pattern[i + 1..];
                    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
                    if rest[digits.len()..].starts_with('d') {
                        let pad = digits.trim_start_matches('0').parse::<usize>().unwrap_or(1);
                        let pad = if digits.is_empty() { 1 } else { pad };
                        let end = i + 1 + digits.len() + 1;
                        set(&mut found, (i, end, pad, None))?;
                        i = end;
                        continue;
                    }
                }
                b'#' => {
                    let run = bytes[i..].iter().take_while(|&&b| b == b'#').count();
                    set(&mut found, (i, i + run, run, None))?;
                    i += run;
                    continue;
                }
                b'[' => {
                    if let Some(close) = pattern[i..].find(']') {
                        let inner = &pattern[i + 1..i + close];
                        let (a, b) = inner
                            .split_once('-')
                            .ok_or_else(|| ClipPatternError::BadRange(inner.to_string()))?;
                        let parse = |s: &str| {
                            if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
                                return Err(ClipPatternError::BadRange(inner.to_string()));
                            }
                            s.parse::<u32>()
                                .map_err(|_| ClipPatternError::BadRange(inner.to_string()))
                        };
                        let (start, end) = (parse(a)?, parse(b)?);
                        if end < start || a.len() != b.len() {
                            return Err(ClipPatternError::BadRange(inner.to_string()));
                        }
                        set(&mut found, (i, i + close + 1, a.len(), Some((start, end))))?;
                        i += close + 1;
                        continue;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        let (start, end, padding, embedded_range) = found.ok_or(ClipPatternError::NoPlaceholder)?;
        if padding == 0 || padding > MAX_PADDING {
            return Err(ClipPatternError::BadPadding(padding));
        }
        Ok(ClipPattern {
            prefix: pattern[..start].to_string(),
            padding,
            suffix: pattern[end..].to_string(),
            embedded_range,
        })
    }

    /// The path of one frame.
    pub fn frame_path(&self, frame: u32) -> String {
        format!(
            "{}{:0width$}{}",
            self.prefix,
            frame,
            self.suffix,
            width = self.padding
        )
    }

    /// The frame number if `path` belongs to this sequence.
    pub fn match_frame(&self, path: &str) -> Option<u32> {
        let digits = path
            .strip_prefix(&self.prefix)?
            .strip_suffix(&self.suffix)?;
        if digits.len() < self.padding || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }

    /// Infers the pattern of a sequence from one file name (`A001.0086400.dng` → `A001.%07d.dng`):
    /// the last run of digits is the frame number.
    pub fn from_example(path: &str) -> Option<(ClipPattern, u32)> {
        let name_start = path.rfind('/').map_or(0, |i| i + 1);
        let bytes = path.as_bytes();
        let mut end = None;
        for i in (name_start..bytes.len()).rev() {
            if bytes[i].is_ascii_digit() {
                end = Some(i + 1);
                break;
            }
        }
        let end = end?;
        let start = (name_start..end)
            .rev()
            .take_while(|&i| bytes[i].is_ascii_digit())
            .last()?;
        let frame = path[start..end].parse().ok()?;
        let padding = end - start;
        if padding > MAX_PADDING {
            return None;
        }
        Some((
            ClipPattern {
                prefix: path[..start].to_string(),
                padding,
                suffix: path[end..].to_string(),
                embedded_range: None,
            },
            frame,
        ))
    }
}

impl fmt::Display for ClipPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%0{}d{}", self.prefix, self.padding, self.suffix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pattern: &str, frame: u32, expected: &str) {
        let p = ClipPattern::parse(pattern).unwrap();
        assert_eq!(p.frame_path(frame), expected, "{pattern}");
        assert_eq!(p.match_frame(expected), Some(frame));
    }

    #[test]
    fn the_three_spellings() {
        check(
            "A001C003_230512_R1AB.%07d.dng",
            86400,
            "A001C003_230512_R1AB.0086400.dng",
        );
        check("clip/A.#####.exr", 12, "clip/A.00012.exr");
        check("B.[000100-000250].dng", 101, "B.000101.dng");
        assert_eq!(
            ClipPattern::parse("B.[000100-000250].dng")
                .unwrap()
                .embedded_range,
            Some((100, 250))
        );
    }

    #[test]
    fn rejects() {
        assert_eq!(
            ClipPattern::parse("a.dng"),
            Err(ClipPatternError::NoPlaceholder)
        );
        assert_eq!(
            ClipPattern::parse("a.%04d.%04d"),
            Err(ClipPatternError::TwoPlaceholders)
        );
        assert!(matches!(
            ClipPattern::parse("a.[10-5].dng"),
            Err(ClipPatternError::BadRange(_))
        ));
        assert!(matches!(
            ClipPattern::parse("a.%012d.dng"),
            Err(ClipPatternError::BadPadding(12))
        ));
    }

    #[test]
    fn from_example_uses_last_digit_run() {
        let (p, f) = ClipPattern::from_example("r1/A001C003_230512.0086400.dng").unwrap();
        assert_eq!(f, 86400);
        assert_eq!(p.to_string(), "r1/A001C003_230512.%07d.dng");
    }
}
