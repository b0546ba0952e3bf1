//! SMPTE 12M timecode at a rational frame rate, non-drop and drop-frame (29.97 / 59.94 DF).
//!
//! A [`Rate`] is an exact rational (`24000/1001`); its *nominal* rate is the whole number of
//! frames a timecode second counts (24, 30, 60). A [`Timecode`] is a label
//! `HH:MM:SS:FF` (`HH:MM:SS;FF` drop-frame); [`Timecode::to_frames`] and
//! [`Timecode::from_frames`] convert between labels and frames since 00:00:00:00 at a rate.
//! Drop-frame skips labels `;00` and `;01` (`;00`–`;03` at 59.94) at the start of every
//! minute not divisible by ten, so the labels track the wall clock.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What is wrong with a timecode or a rate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimecodeError {
    #[error("timecode {0:?} is not HH:MM:SS:FF (or HH:MM:SS;FF for drop-frame)")]
    Syntax(String),
    #[error("timecode {tc}: {what}")]
    Range { tc: String, what: String },
    #[error("frame rate {0:?} is not a positive rational such as 24, 25, 24000/1001 or 29.97")]
    Rate(String),
    #[error("drop-frame timecode needs a 29.97 or 59.94 rate, not {0}")]
    DropFrameRate(String),
}

/// A frame rate `num/den` frames per second, kept exact (reduced).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    num: u32,
    den: u32,
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

impl Rate {
    /// `num/den` frames per second, reduced; `None` if either is zero.
    pub fn new(num: u32, den: u32) -> Option<Rate> {
        if num == 0 || den == 0 {
            return None;
        }
        let g = gcd(num as u64, den as u64) as u32;
        Some(Rate {
            num: num / g,
            den: den / g,
        })
    }

    /// A whole-number rate.
    pub fn fps(n: u32) -> Rate {
        Rate::new(n.max(1), 1).expect("non-zero")
    }

    /// The exact rational closest to a decimal rate as files store it: NTSC rates
    /// (23.976, 29.97, 47.952, 59.94, 119.88) become `N*1000/1001`, others are rounded to
    /// 1/1000 fps.
    pub fn from_f64(fps: f64) -> Option<Rate> {
        if !(fps.is_finite() && fps > 0.0 && fps < 10_000.0) {
            return None;
        }
        let nominal = fps.round();
        if fps.fract() != 0.0 && (fps * 1001.0 / 1000.0 - nominal).abs() < 2e-3 {
            let n = (fps * 1001.0 / 1000.0).round() as u32;
            return Rate::new(n * 1000, 1001);
        }
        Rate::new((fps * 1000.0).round() as u32, 1000)
    }

    pub fn num(self) -> u32 {
        self.num
    }
    pub fn den(self) -> u32 {
        self.den
    }
    pub fn as_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// Frames counted per timecode second: the rate rounded to a whole number (30 for
    /// 30000/1001, 24 for 24000/1001).
    pub fn nominal(self) -> u32 {
        let (n, d) = (self.num as u64, self.den as u64);
        ((2 * n + d) / (2 * d)).max(1) as u32
    }

    /// Whether drop-frame counting applies: 30000/1001 and 60000/1001.
    pub fn supports_drop_frame(self) -> bool {
        self.den == 1001 && (self.num == 30000 || self.num == 60000)
    }

    /// Labels dropped at each minute boundary (2 at 29.97, 4 at 59.94).
    fn dropped_per_minute(self) -> u64 {
        self.nominal() as u64 / 15
    }

    /// Frames in 24 hours of labels.
    pub fn frames_per_day(self, drop_frame: bool) -> u64 {
        let n = self.nominal() as u64;
        if drop_frame {
            let d = self.dropped_per_minute();
            24 * 6 * (600 * n - 9 * d)
        } else {
            24 * 3600 * n
        }
    }

    /// Seconds of `frames` frames at this rate.
    pub fn seconds(self, frames: u64) -> f64 {
        frames as f64 * self.den as f64 / self.num as f64
    }
}

impl fmt::Display for Rate {
    /// Always `num/den` (`24/1`, `24000/1001`): the form the clip record stores.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

impl std::str::FromStr for Rate {
    type Err = TimecodeError;
    /// `24000/1001`, `24`, `23.976`, `29.97`.
    fn from_str(s: &str) -> Result<Rate, TimecodeError> {
        let bad = || TimecodeError::Rate(s.to_string());
        let t = s.trim();
        if let Some((n, d)) = t.split_once('/') {
            let n = n.trim().parse().map_err(|_| bad())?;
            let d = d.trim().parse().map_err(|_| bad())?;
            return Rate::new(n, d).ok_or_else(bad);
        }
        if let Ok(n) = t.parse::<u32>() {
            return Rate::new(n, 1).ok_or_else(bad);
        }
        t.parse::<f64>()
            .ok()
            .and_then(Rate::from_f64)
            .ok_or_else(bad)
    }
}

impl Serialize for Rate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Rate, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A timecode label. Field ranges are checked by [`Timecode::new`] and the parser; the
/// frame field is checked against a rate where one is known ([`Timecode::validate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timecode {
    pub hours: u8,
    pub minutes: u8,
    pub seconds: u8,
    pub frames: u8,
    /// Drop-frame counting (written with `;` before the frames).
    pub drop_frame: bool,
}

impl Timecode {
    pub fn new(
        hours: u8,
        minutes: u8,
        seconds: u8,
        frames: u8,
        drop_frame: bool,
    ) -> Result<Timecode, TimecodeError> {
        let tc = Timecode {
            hours,
            minutes,
            seconds,
            frames,
            drop_frame,
        };
        if hours > 23 || minutes > 59 || seconds > 59 || frames > 119 {
            return Err(TimecodeError::Range {
                tc: tc.to_string(),
                what: "hours 0–23, minutes and seconds 0–59, frames 0–119".into(),
            });
        }
        Ok(tc)
    }

    /// Parses `HH:MM:SS:FF` (non-drop) or `HH:MM:SS;FF` / `HH:MM:SS.FF` / `HH;MM;SS;FF`
    /// (drop-frame).
    pub fn parse(s: &str) -> Result<Timecode, TimecodeError> {
        let t = s.trim();
        let bad = || TimecodeError::Syntax(s.to_string());
        let b = t.as_bytes();
        // Two frame digits (three above 99 fps).
        if b.len() != 11 && b.len() != 12 {
            return Err(bad());
        }
        let two = |i: usize| -> Result<u8, TimecodeError> {
            let (a, c) = (b[i], b[i + 1]);
            if a.is_ascii_digit() && c.is_ascii_digit() {
                Ok((a - b'0') * 10 + (c - b'0'))
            } else {
                Err(bad())
            }
        };
        let seps = [b[2], b[5], b[8]];
        if !seps.iter().all(|c| matches!(c, b':' | b';' | b'.' | b',')) {
            return Err(bad());
        }
        let drop_frame = b[8] != b':';
        let frames = if b.len() == 12 {
            if !b[9].is_ascii_digit() {
                return Err(bad());
            }
            (b[9] - b'0') as u16 * 100 + two(10)? as u16
        } else {
            two(9)? as u16
        };
        let frames = u8::try_from(frames).map_err(|_| bad())?;
        Timecode::new(two(0)?, two(3)?, two(6)?, frames, drop_frame)
    }

    /// Parses and checks the label exists at `rate` (see [`Timecode::validate`]).
    pub fn parse_at(s: &str, rate: Rate) -> Result<Timecode, TimecodeError> {
        let tc = Timecode::parse(s)?;
        tc.validate(rate)?;
        Ok(tc)
    }

    /// The frame field is below the nominal rate, drop-frame is used only at 29.97/59.94,
    /// and a drop-frame label is not one of the dropped ones.
    pub fn validate(&self, rate: Rate) -> Result<(), TimecodeError> {
        let range = |what: String| TimecodeError::Range {
            tc: self.to_string(),
            what,
        };
        if self.frames as u32 >= rate.nominal() {
            return Err(range(format!(
                "frame {} does not exist at {rate} fps (0–{})",
                self.frames,
                rate.nominal() - 1
            )));
        }
        if self.drop_frame {
            if !rate.supports_drop_frame() {
                return Err(TimecodeError::DropFrameRate(rate.to_string()));
            }
            if self.seconds == 0
                && self.minutes % 10 != 0
                && (self.frames as u64) < rate.dropped_per_minute()
            {
                return Err(range(
                    "this label is skipped in drop-frame counting (minute not divisible by 10)"
                        .into(),
                ));
            }
        }
        Ok(())
    }

    /// Frames since 00:00:00:00 at `rate` (drop-frame labels counted as such).
    pub fn to_frames(&self, rate: Rate) -> Result<u64, TimecodeError> {
        self.validate(rate)?;
        let n = rate.nominal() as u64;
        let total_minutes = self.hours as u64 * 60 + self.minutes as u64;
        let labels = (total_minutes * 60 + self.seconds as u64) * n + self.frames as u64;
        Ok(if self.drop_frame {
            let d = rate.dropped_per_minute();
            labels - d * (total_minutes - total_minutes / 10)
        } else {
            labels
        })
    }

    /// The label of frame `frames` since 00:00:00:00 (wrapping at 24 hours).
    pub fn from_frames(
        frames: u64,
        rate: Rate,
        drop_frame: bool,
    ) -> Result<Timecode, TimecodeError> {
        if drop_frame && !rate.supports_drop_frame() {
            return Err(TimecodeError::DropFrameRate(rate.to_string()));
        }
        let n = rate.nominal() as u64;
        let mut f = frames % rate.frames_per_day(drop_frame);
        if drop_frame {
            let d = rate.dropped_per_minute();
            let per_10min = 600 * n - 9 * d;
            let per_min = 60 * n - d;
            let (tens, rem) = (f / per_10min, f % per_10min);
            f += 9 * d * tens + d * (rem.saturating_sub(d) / per_min);
        }
        let (fr, secs) = (f % n, f / n);
        Timecode::new(
            (secs / 3600) as u8,
            (secs / 60 % 60) as u8,
            (secs % 60) as u8,
            fr as u8,
            drop_frame,
        )
    }

    /// The label `delta` frames later (wrapping at 24 hours).
    pub fn add_frames(&self, delta: u64, rate: Rate) -> Result<Timecode, TimecodeError> {
        Timecode::from_frames(self.to_frames(rate)? + delta, rate, self.drop_frame)
    }

    /// An integer that orders labels as they are read (`HHMMSSFF`), whatever the rate: the
    /// catalog compares these to find clips holding a timecode.
    pub fn label_key(&self) -> i64 {
        ((self.hours as i64 * 100 + self.minutes as i64) * 100 + self.seconds as i64) * 1000
            + self.frames as i64
    }
}

impl fmt::Display for Timecode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}:{:02}{}{:02}",
            self.hours,
            self.minutes,
            self.seconds,
            if self.drop_frame { ';' } else { ':' },
            self.frames
        )
    }
}

impl std::str::FromStr for Timecode {
    type Err = TimecodeError;
    fn from_str(s: &str) -> Result<Timecode, TimecodeError> {
        Timecode::parse(s)
    }
}

impl Serialize for Timecode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timecode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Timecode, D::Error> {
        let s = String::deserialize(d)?;
        Timecode::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// SMPTE 12M BCD timecode as DNG `TimeCodes` (frames byte first) and DPX (`HHMMSSFF` in one
/// 32-bit word) store it; bit 6 of the frames byte is the drop-frame flag.
pub fn from_bcd(frames: u8, seconds: u8, minutes: u8, hours: u8) -> Option<Timecode> {
    let bcd = |b: u8, mask: u8| {
        let (hi, lo) = ((b & mask) >> 4, b & 0x0F);
        (lo <= 9).then_some(hi * 10 + lo)
    };
    Timecode::new(
        bcd(hours, 0x30)?,
        bcd(minutes, 0x70)?,
        bcd(seconds, 0x70)?,
        bcd(frames, 0x30)?,
        frames & 0x40 != 0,
    )
    .ok()
}

/// The four BCD bytes (frames, seconds, minutes, hours) of a timecode, drop-frame flag set.
pub fn to_bcd(tc: &Timecode) -> [u8; 4] {
    let bcd = |v: u8| ((v / 10) << 4) | (v % 10);
    [
        bcd(tc.frames) | if tc.drop_frame { 0x40 } else { 0 },
        bcd(tc.seconds),
        bcd(tc.minutes),
        bcd(tc.hours),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn df30() -> Rate {
        Rate::new(30000, 1001).unwrap()
    }

    #[test]
    fn drop_frame_known_values() {
        let r = df30();
        let tc = |s: &str| Timecode::parse(s).unwrap();
        assert_eq!(tc("00:00:59;29").to_frames(r).unwrap(), 1799);
        assert_eq!(tc("00:01:00;02").to_frames(r).unwrap(), 1800);
        assert_eq!(tc("00:10:00;00").to_frames(r).unwrap(), 17982);
        assert_eq!(tc("01:00:00;00").to_frames(r).unwrap(), 107_892);
        assert_eq!(
            Timecode::from_frames(1800, r, true).unwrap(),
            tc("00:01:00;02")
        );
        assert!(tc("00:01:00;00").to_frames(r).is_err(), "a dropped label");
        assert!(tc("00:10:00;00").validate(r).is_ok());
        let r60 = Rate::new(60000, 1001).unwrap();
        assert_eq!(
            Timecode::from_frames(3600, r60, true).unwrap().to_string(),
            "00:01:00;04"
        );
        assert_eq!(r.frames_per_day(true), 2_589_408);
    }

    #[test]
    fn rates_parse_and_print() {
        assert_eq!(
            "24000/1001".parse::<Rate>().unwrap().to_string(),
            "24000/1001"
        );
        assert_eq!("23.976".parse::<Rate>().unwrap().to_string(), "24000/1001");
        assert_eq!("29.97".parse::<Rate>().unwrap().to_string(), "30000/1001");
        assert_eq!("25".parse::<Rate>().unwrap().to_string(), "25/1");
        assert_eq!("50/2".parse::<Rate>().unwrap().to_string(), "25/1");
        assert_eq!(Rate::from_f64(24.0).unwrap().to_string(), "24/1");
        assert!("0".parse::<Rate>().is_err());
        assert!("x/1".parse::<Rate>().is_err());
        assert_eq!("24000/1001".parse::<Rate>().unwrap().nominal(), 24);
    }

    #[test]
    fn syntax_errors_name_the_input() {
        for bad in [
            "1:00:00:00",
            "01:00:00",
            "01:60:00:00",
            "aa:00:00:00",
            "01-00-00-00",
        ] {
            assert!(Timecode::parse(bad).is_err(), "{bad}");
        }
        let e = Timecode::parse_at("01:00:00:25", Rate::fps(25)).unwrap_err();
        assert!(e.to_string().contains("01:00:00:25"), "{e}");
        assert!(Timecode::parse_at("01:00:00;00", Rate::fps(25)).is_err());
    }

    #[test]
    fn bcd_round_trip_keeps_drop_frame() {
        let tc = Timecode::parse("10:00:59;27").unwrap();
        let b = to_bcd(&tc);
        assert_eq!(from_bcd(b[0], b[1], b[2], b[3]), Some(tc));
    }

    fn rate_and_df() -> impl Strategy<Value = (Rate, bool)> {
        prop_oneof![
            Just((Rate::fps(24), false)),
            Just((Rate::fps(25), false)),
            Just((Rate::new(24000, 1001).unwrap(), false)),
            Just((Rate::new(30000, 1001).unwrap(), false)),
            Just((Rate::new(30000, 1001).unwrap(), true)),
            Just((Rate::new(60000, 1001).unwrap(), true)),
            Just((Rate::fps(50), false)),
            Just((Rate::fps(120), false)),
        ]
    }

    proptest! {
        #[test]
        fn frames_round_trip((rate, df) in rate_and_df(), n in 0u64..5_000_000) {
            let n = n % rate.frames_per_day(df);
            let tc = Timecode::from_frames(n, rate, df).unwrap();
            prop_assert!(tc.validate(rate).is_ok(), "{} invalid", tc);
            prop_assert_eq!(tc.to_frames(rate).unwrap(), n);
            // Formatting and parsing give the same label back.
            prop_assert_eq!(Timecode::parse(&tc.to_string()).unwrap(), tc);
        }

        #[test]
        fn consecutive_frames_have_increasing_labels((rate, df) in rate_and_df(), n in 0u64..5_000_000) {
            let n = n % (rate.frames_per_day(df) - 1);
            let a = Timecode::from_frames(n, rate, df).unwrap();
            let b = Timecode::from_frames(n + 1, rate, df).unwrap();
            prop_assert!(a.label_key() < b.label_key(), "{} then {}", a, b);
        }

        #[test]
        fn valid_labels_round_trip((rate, df) in rate_and_df(), h in 0u8..24, m in 0u8..60, s in 0u8..60, f in 0u8..120) {
            let Ok(tc) = Timecode::new(h, m, s, f % rate.nominal() as u8, df) else { return Ok(()) };
            if tc.validate(rate).is_err() { return Ok(()) }
            let n = tc.to_frames(rate).unwrap();
            prop_assert_eq!(Timecode::from_frames(n, rate, df).unwrap(), tc);
        }
    }
}
