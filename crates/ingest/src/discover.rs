//! Clip discovery from a listing: image sequences grouped by folder, name, separator and
//! extension; single files; the ASC MHL history folders. Pure: keys and sizes in.

use crate::record::Format;
use std::collections::BTreeMap;

/// One object of a listing: its key (relative to the location, `/`-separated) and size.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Entry {
    pub key: String,
    pub size: u64,
}

impl Entry {
    pub fn new(key: impl Into<String>, size: u64) -> Entry {
        Entry {
            key: key.into(),
            size,
        }
    }
}

/// A clip to inspect: a sequence or a single file, with its files in frame order. Serde, so
/// a dispatcher can hand clips to workers ([`crate::inspect_clip`] on each).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClipSource {
    /// The clip name (sequence name, or the single file's stem).
    pub name: String,
    /// The sequence pattern (`day1/A001.%06d.dng`) or the single file's key.
    pub key: String,
    pub format: Format,
    /// (frame number, file), ascending; one file at frame 0 for a single file.
    pub frames: Vec<(u32, Entry)>,
    pub single: bool,
}

/// What a listing holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    pub clips: Vec<ClipSource>,
    /// Keys that are not media ingest reads (sidecars, unknown extensions), sorted.
    pub ignored: Vec<String>,
    /// Folders holding an `ascmhl/` history (`""` for the location's root), sorted.
    pub histories: Vec<String>,
}

/// Splits `stem` into (name, separator, frame digits) when it ends in a frame number.
fn split_frame(stem: &str) -> Option<(&str, &str, &str)> {
    let digits = stem.len() - stem.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 || digits > 9 || digits == stem.len() {
        return None;
    }
    let (rest, num) = stem.split_at(stem.len() - digits);
    let sep = match rest.chars().last() {
        Some(c @ ('.' | '_' | '-')) => &rest[rest.len() - c.len_utf8()..],
        _ => "",
    };
    let name = &rest[..rest.len() - sep.len()];
    (!name.is_empty()).then_some((name, sep, num))
}

/// Groups a listing into clips.
///
/// Rules: keys with a segment starting with `.` are skipped; a folder named `ascmhl` is a
/// history (its parent is the history's root); extensions `dng`, `dpx`, `exr`, `tif`, `tiff`
/// (any case) are media, everything else is `ignored`. A file whose stem ends in a frame
/// number (up to 9 digits, after `.`, `_`, `-` or directly) joins the sequence of its folder,
/// name, separator, extension (exact case) and padding (a number with a leading zero fixes
/// the width; `x_035` and `x_35` are two sequences), so every file's key is
/// [`frame_key`]`(pattern, n)`. A group of one file is a single-file clip unless its
/// separator is `.` (`shot.1001.exr` alone is a one-frame sequence).
pub fn discover(entries: &[Entry]) -> Discovery {
    type GroupKey = (String, String, String, String); // dir, name, sep, extension
    let mut groups: BTreeMap<GroupKey, Vec<(u32, usize, &Entry)>> = BTreeMap::new();
    let mut singles: Vec<&Entry> = Vec::new();
    let mut out = Discovery::default();
    for e in entries {
        let segments: Vec<&str> = e.key.split('/').collect();
        if segments.iter().any(|s| s.starts_with('.')) {
            continue;
        }
        if let Some(i) = segments.iter().position(|s| *s == "ascmhl") {
            let root = segments[..i].join("/");
            if !out.histories.contains(&root) {
                out.histories.push(root);
            }
            continue;
        }
        let file = segments.last().copied().unwrap_or_default();
        let Some((stem, ext)) = file.rsplit_once('.') else {
            out.ignored.push(e.key.clone());
            continue;
        };
        if Format::from_extension(ext).is_none() || stem.is_empty() {
            out.ignored.push(e.key.clone());
            continue;
        }
        let dir = segments[..segments.len() - 1].join("/");
        match split_frame(stem) {
            Some((name, sep, digits)) => groups
                .entry((dir, name.to_string(), sep.to_string(), ext.to_string()))
                .or_default()
                .push((digits.parse().expect("digits"), digits.len(), e)),
            None => singles.push(e),
        }
    }
    for ((dir, name, sep, ext), files) in groups {
        // Split by padding so that every file's key is `frame_key(pattern, n)`: a number
        // with a leading zero fixes its width; one without fits any padding up to its width.
        let pads: std::collections::BTreeSet<usize> = files
            .iter()
            .filter(|f| f.1 > 1 && f.0.to_string().len() < f.1)
            .map(|f| f.1)
            .collect();
        let mut by_pad: BTreeMap<usize, Vec<(u32, &Entry)>> = BTreeMap::new();
        let unpadded_min = files
            .iter()
            .filter(|f| !pads.iter().any(|p| *p <= f.1) && f.0.to_string().len() == f.1)
            .map(|f| f.1)
            .min();
        for (n, width, e) in files {
            let padded = n.to_string().len() < width;
            let pad = if padded {
                width
            } else {
                pads.range(..=width)
                    .next_back()
                    .copied()
                    .unwrap_or_else(|| unpadded_min.unwrap_or(width))
            };
            by_pad.entry(pad).or_default().push((n, e));
        }
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        for (pad, mut files) in by_pad {
            if files.len() == 1 && sep != "." {
                singles.push(files[0].1);
                continue;
            }
            files.sort_by_key(|f| f.0);
            out.clips.push(ClipSource {
                name: name.clone(),
                key: format!("{prefix}{name}{sep}%0{pad}d.{ext}"),
                format: Format::from_extension(&ext).expect("checked above"),
                frames: files.into_iter().map(|(n, e)| (n, e.clone())).collect(),
                single: false,
            });
        }
    }
    for e in singles {
        let file = e.key.rsplit('/').next().unwrap_or(&e.key);
        let (stem, ext) = file
            .rsplit_once('.')
            .expect("media files have an extension");
        out.clips.push(ClipSource {
            name: stem.to_string(),
            key: e.key.clone(),
            format: Format::from_extension(ext).expect("checked above"),
            frames: vec![(0, e.clone())],
            single: true,
        });
    }
    out.clips.sort_by(|a, b| a.key.cmp(&b.key));
    out.ignored.sort();
    out.histories.sort();
    out
}

/// The key of frame `frame` of a sequence pattern (`%06d` replaced), or the pattern itself
/// for a single file.
pub fn frame_key(pattern: &str, frame: u32) -> String {
    let Some(at) = pattern.rfind("%0") else {
        return pattern.to_string();
    };
    let rest = &pattern[at + 2..];
    let Some(d) = rest.find('d') else {
        return pattern.to_string();
    };
    let Ok(pad) = rest[..d].parse::<usize>() else {
        return pattern.to_string();
    };
    format!("{}{frame:0pad$}{}", &pattern[..at], &rest[d + 1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(k: &str) -> Entry {
        Entry::new(k, 10)
    }

    #[test]
    fn sequences_singles_and_histories() {
        let d = discover(&[
            e("day1/A001C003_230101_R1AB.000123.dng"),
            e("day1/A001C003_230101_R1AB.000124.dng"),
            e("day1/A001C003_230101_R1AB.000126.dng"),
            e("day1/A001C003_230101_R1AB.000127.DNG"),
            e("day1/A001C004_230101.dng"),
            e("day1/notes.txt"),
            e("day1/.DS_Store"),
            e("ascmhl/0001_day1_2026-01-01_000000Z.mhl"),
            e("plate.1001.exr"),
            e("plate_0001.dpx"),
            e("plate_0002.dpx"),
        ]);
        let keys: Vec<&str> = d.clips.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "day1/A001C003_230101_R1AB.%06d.DNG",
                "day1/A001C003_230101_R1AB.%06d.dng",
                "day1/A001C004_230101.dng",
                "plate.%04d.exr",
                "plate_%04d.dpx"
            ]
        );
        assert_eq!(d.clips[1].name, "A001C003_230101_R1AB");
        assert_eq!(
            d.clips[1].frames.iter().map(|f| f.0).collect::<Vec<_>>(),
            [123, 124, 126]
        );
        assert!(d.clips[2].single);
        assert_eq!(d.clips[2].name, "A001C004_230101");
        assert!(!d.clips[3].single, "name.NNNN.ext alone is a sequence");
        assert_eq!(d.ignored, ["day1/notes.txt"]);
        assert_eq!(d.histories, [""]);
        assert_eq!(frame_key("day1/A001.%06d.dng", 42), "day1/A001.000042.dng");
        assert_eq!(frame_key("x.dng", 0), "x.dng");
    }

    use proptest::prelude::*;

    proptest! {
        /// Every media file lands in exactly one clip, at a frame whose key is its own.
        #[test]
        fn every_media_file_is_in_exactly_one_clip(
            names in proptest::collection::vec(
                ("(a|b|c)/", "(A001|B_2|x)", "(\\.|_|-|)", 0u32..40, 1usize..6, "(dng|DPX|exr|tif|txt)"),
                0..40,
            )
        ) {
            let entries: Vec<Entry> = names
                .iter()
                .map(|(dir, name, sep, n, pad, ext)| Entry::new(format!("{dir}{name}{sep}{n:0pad$}.{ext}"), 1))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let d = discover(&entries);
            for e in &entries {
                let media = !e.key.ends_with(".txt");
                let holders: Vec<&ClipSource> = d
                    .clips
                    .iter()
                    .filter(|c| c.frames.iter().any(|(_, f)| f == e))
                    .collect();
                prop_assert_eq!(holders.len(), usize::from(media), "{}", e.key);
                prop_assert_eq!(d.ignored.contains(&e.key), !media);
            }
            for c in &d.clips {
                prop_assert!(c.frames.windows(2).all(|w| w[0].0 < w[1].0), "{} in order", c.key);
                for (n, f) in &c.frames {
                    if !c.single {
                        prop_assert_eq!(frame_key(&c.key, *n), f.key.clone());
                    }
                }
            }
        }
    }
}
