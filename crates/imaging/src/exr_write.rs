//! Our own single-part scanline OpenEXR writer: we lay out the header, offset table and chunks
//! ourselves and compress the blocks in parallel on the caller's rayon pool (the `exr` crate's
//! writer compresses on one thread unless it builds a pool of its own, which this crate never
//! does). Byte-deterministic: header attributes are written sorted by name and every block is
//! compressed independently of how the pool schedules it.

use crate::exr_block::{encode_chunk, BlockShape};
use crate::exr_io::{ExrCompression, ExrOptions, ExrPixel, FrameHeader};
use crate::rows::{BufferRows, RowCursor, Rows};
use crate::ImagingError;
use rayon::prelude::*;

/// A pixel rectangle in EXR's absolute coordinates (the origin may be negative).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
}

impl Window {
    pub fn at_origin(width: u32, height: u32) -> Self {
        Window {
            x: 0,
            y: 0,
            width,
            height,
        }
    }

    /// `(xmin, ymin, xmax, ymax)` as EXR's `box2i` stores it, or `None` if it leaves `i32`.
    fn box2i(&self) -> Option<[i32; 4]> {
        let xmax = i64::from(self.x) + i64::from(self.width) - 1;
        let ymax = i64::from(self.y) + i64::from(self.height) - 1;
        Some([
            self.x,
            self.y,
            i32::try_from(xmax).ok()?,
            i32::try_from(ymax).ok()?,
        ])
    }
}

/// Where the pixels sit: the data window the buffer covers and the display window (the frame
/// proper). Overscan is a data window larger than the display window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExrLayout {
    pub data: Window,
    pub display: Window,
}

impl ExrLayout {
    pub fn plain(width: u32, height: u32) -> Self {
        let w = Window::at_origin(width, height);
        ExrLayout {
            data: w,
            display: w,
        }
    }
}

fn enc_err(what: impl Into<String>) -> ImagingError {
    ImagingError::Encode { what: what.into() }
}

/// One header attribute: name, type name, value bytes.
type Attr = (String, &'static str, Vec<u8>);

fn latin1(name: &str, value: &str) -> Result<Vec<u8>, ImagingError> {
    value
        .chars()
        .map(|c| u8::try_from(c as u32).ok())
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(|| {
            enc_err(format!(
                "EXR attribute {name}: value has characters outside Latin-1"
            ))
        })
}

/// Packs `HH:MM:SS:FF` (`;` before frames for drop-frame) as EXR's TV60 `timecode` time word.
pub(crate) fn pack_timecode(tc: &str) -> Option<u32> {
    let drop_frame = tc.contains(';');
    let parts: Vec<u32> = tc
        .split([':', ';'])
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [hours, minutes, seconds, frame] = parts[..] else {
        return None;
    };
    if hours > 23 || minutes > 59 || seconds > 59 || frame > 29 {
        return None;
    }
    let bcd = |v: u32| (v / 10) << 4 | (v % 10);
    Some(
        bcd(frame)
            | u32::from(drop_frame) << 6
            | bcd(seconds) << 8
            | bcd(minutes) << 16
            | bcd(hours) << 24,
    )
}

fn header_attributes(
    channel_names: &[&str],
    layout: &ExrLayout,
    opts: &ExrOptions,
    header: &FrameHeader,
) -> Result<Vec<Attr>, ImagingError> {
    let mut attrs: Vec<Attr> = Vec::new();
    let mut chlist = Vec::new();
    let pixel_type: i32 = match opts.pixel {
        ExrPixel::Half => 1,
        ExrPixel::Float => 2,
    };
    for name in channel_names {
        chlist.extend_from_slice(name.as_bytes());
        chlist.push(0);
        chlist.extend_from_slice(&pixel_type.to_le_bytes());
        // pLinear, reserved ×3, xSampling, ySampling.
        chlist.extend_from_slice(&[0, 0, 0, 0]);
        chlist.extend_from_slice(&1i32.to_le_bytes());
        chlist.extend_from_slice(&1i32.to_le_bytes());
    }
    chlist.push(0);
    attrs.push(("channels".into(), "chlist", chlist));
    let compression: u8 = match opts.compression {
        ExrCompression::None => 0,
        ExrCompression::Zips => 2,
        ExrCompression::Zip => 3,
        ExrCompression::Piz => 4,
    };
    attrs.push(("compression".into(), "compression", vec![compression]));
    let box2i = |name: &str, w: &Window| -> Result<Attr, ImagingError> {
        let b = w
            .box2i()
            .ok_or_else(|| enc_err(format!("EXR {name} {w:?} does not fit in 32 bits")))?;
        Ok((
            name.to_string(),
            "box2i",
            b.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ))
    };
    attrs.push(box2i("dataWindow", &layout.data)?);
    attrs.push(box2i("displayWindow", &layout.display)?);
    attrs.push(("lineOrder".into(), "lineOrder", vec![0]));
    attrs.push((
        "pixelAspectRatio".into(),
        "float",
        1f32.to_le_bytes().to_vec(),
    ));
    attrs.push((
        "screenWindowCenter".into(),
        "v2f",
        [0f32, 0.0].iter().flat_map(|v| v.to_le_bytes()).collect(),
    ));
    attrs.push((
        "screenWindowWidth".into(),
        "float",
        1f32.to_le_bytes().to_vec(),
    ));
    // ACES AP0 primaries and white (SMPTE ST 2065-1).
    let aces: [f32; 8] = [0.7347, 0.2653, 0.0, 1.0, 0.0001, -0.077, 0.32168, 0.33767];
    attrs.push((
        "chromaticities".into(),
        "chromaticities",
        aces.iter().flat_map(|v| v.to_le_bytes()).collect(),
    ));
    attrs.push(("software".into(), "string", b"platefarm".to_vec()));
    if let Some(tc) = &header.timecode {
        let packed = pack_timecode(tc)
            .ok_or_else(|| enc_err(format!("timecode {tc:?} is not HH:MM:SS:FF")))?;
        let mut v = packed.to_le_bytes().to_vec();
        v.extend_from_slice(&0u32.to_le_bytes());
        attrs.push(("timeCode".into(), "timecode", v));
    }
    if let Some((n, d)) = header.frame_rate {
        let n = i32::try_from(n)
            .map_err(|_| enc_err(format!("framesPerSecond numerator {n} over i32")))?;
        let mut v = n.to_le_bytes().to_vec();
        v.extend_from_slice(&d.to_le_bytes());
        attrs.push(("framesPerSecond".into(), "rational", v));
    }
    if let Some(iso) = header.iso {
        attrs.push((
            "isoSpeed".into(),
            "float",
            (iso as f32).to_le_bytes().to_vec(),
        ));
    }
    attrs.push((
        "imageCounter".into(),
        "int",
        (header.frame.min(i32::MAX as u32) as i32)
            .to_le_bytes()
            .to_vec(),
    ));
    let strings = [
        ("reelName", &header.reel_name),
        ("cameraMake", &header.camera_make),
        ("cameraModel", &header.camera_model),
        ("cameraSerialNumber", &header.camera_serial),
        ("lensModel", &header.lens),
        ("ascFramingDecisionList", &header.fdl_json),
        ("amfUUID", &header.amf_uuid),
    ];
    for (name, value) in strings {
        if let Some(v) = value {
            attrs.push((name.into(), "string", latin1(name, v)?));
        }
    }
    for (name, v) in &header.extra {
        if name.is_empty() || name.len() > 255 || name.contains('\0') {
            return Err(enc_err(format!(
                "EXR attribute name {name:?} is not 1–255 bytes without NUL"
            )));
        }
        if attrs.iter().any(|a| &a.0 == name) {
            return Err(enc_err(format!("EXR attribute {name} is given twice")));
        }
        attrs.push((name.clone(), "string", latin1(name, v)?));
    }
    // Sorted so files are byte-deterministic (OpenEXR's own writer sorts them too).
    attrs.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(attrs)
}

/// Lines per block for each compression (OpenEXR's fixed values).
fn lines_per_block(c: ExrCompression) -> usize {
    match c {
        ExrCompression::None | ExrCompression::Zips => 1,
        ExrCompression::Zip => 16,
        ExrCompression::Piz => 32,
    }
}

/// Encodes interleaved float pixels (`channels` = 3 for RGB, 4 for RGBA; alpha premultiplied,
/// as EXR expects) covering `layout.data` into a scanline OpenEXR file. Blocks are compressed
/// in parallel on the caller's pool; the bytes do not depend on the thread count.
pub fn encode_exr_layout(
    pixels: &[f32],
    channels: usize,
    layout: &ExrLayout,
    opts: &ExrOptions,
    header: &FrameHeader,
) -> Result<Vec<u8>, ImagingError> {
    let (w, h) = (layout.data.width, layout.data.height);
    if w == 0 || h == 0 || pixels.len() != w as usize * h as usize * channels {
        return Err(enc_err(format!(
            "image buffer holds {} values for a {w}×{h} data window of {channels} channels",
            pixels.len()
        )));
    }
    encode_exr_rows(
        &BufferRows::new(pixels, w, h, channels),
        layout,
        opts,
        header,
    )
    .map(ExrFile::into_bytes)
}

/// An encoded OpenEXR file: header and offset table, then the blocks, kept apart so a file
/// can be written without gathering the whole image into one buffer.
#[derive(Debug, Clone, PartialEq)]
pub struct ExrFile {
    head: Vec<u8>,
    blocks: Vec<Vec<u8>>,
}

impl ExrFile {
    pub fn len(&self) -> usize {
        self.head.len() + self.blocks.iter().map(Vec::len).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn into_bytes(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        out.extend_from_slice(&self.head);
        for b in self.blocks {
            out.extend_from_slice(&b);
        }
        out
    }

    pub fn write_to(&self, w: &mut impl std::io::Write) -> std::io::Result<()> {
        w.write_all(&self.head)?;
        self.blocks.iter().try_for_each(|b| w.write_all(b))
    }
}

/// Output rows per parallel task: each task reads its rows top to bottom through one cursor,
/// so a resampling stage before it recomputes only the few rows at a task's edges.
const TASK_ROWS: usize = 256;

/// Encodes an image given as [`Rows`] (3 channels RGB, 4 RGBA premultiplied) covering
/// `layout.data`: tasks of [`TASK_ROWS`] lines in parallel on the caller's pool, each pulling
/// its rows through the stages before it block by block, so no stage holds the whole image.
/// The bytes do not depend on the thread count.
pub fn encode_exr_rows(
    rows: &dyn Rows,
    layout: &ExrLayout,
    opts: &ExrOptions,
    header: &FrameHeader,
) -> Result<ExrFile, ImagingError> {
    let (w, h) = (layout.data.width as usize, layout.data.height as usize);
    let channels = rows.channels();
    let names: &[&str] = match channels {
        3 => &["B", "G", "R"],
        4 => &["A", "B", "G", "R"],
        n => {
            return Err(enc_err(format!(
                "EXR channels: {n}, expected 3 (RGB) or 4 (RGBA)"
            )))
        }
    };
    if w == 0 || h == 0 || (rows.width(), rows.height()) != (w, h) {
        return Err(enc_err(format!(
            "image of {}×{} for a {w}×{h} data window",
            rows.width(),
            rows.height()
        )));
    }
    // Source index of each output channel, in the sorted order the file stores them.
    let order: &[usize] = if channels == 3 {
        &[2, 1, 0]
    } else {
        &[3, 2, 1, 0]
    };
    let attrs = header_attributes(names, layout, opts, header)?;
    let shape = BlockShape {
        w,
        channels,
        order,
        pixel: opts.pixel,
    };
    let lines = lines_per_block(opts.compression);
    let n_blocks = h.div_ceil(lines);
    let blocks_per_task = (TASK_ROWS / lines).max(1);
    let encode_block = |cursor: &mut dyn RowCursor, block_idx: usize| {
        let y0 = block_idx * lines;
        let n_lines = lines.min(h - y0);
        let y = layout.data.y + y0 as i32;
        encode_chunk(cursor.rows(y0, n_lines), y, &shape, opts.compression)
    };
    let per_task: Vec<Vec<Vec<u8>>> = (0..n_blocks.div_ceil(blocks_per_task))
        .into_par_iter()
        .map(|task| {
            let mut cursor = rows.cursor();
            let first = task * blocks_per_task;
            (first..(first + blocks_per_task).min(n_blocks))
                .map(|b| encode_block(cursor.as_mut(), b))
                .collect::<Vec<_>>()
        })
        .collect();
    let blocks: Vec<Vec<u8>> = per_task.into_iter().flatten().collect();

    let mut head = Vec::with_capacity(4096 + 8 * n_blocks);
    head.extend_from_slice(&[0x76, 0x2f, 0x31, 0x01]);
    // Version 2; bit 10 marks names longer than 31 bytes.
    let long_names = attrs.iter().any(|a| a.0.len() > 31);
    let version: u32 = 2 | if long_names { 0x400 } else { 0 };
    head.extend_from_slice(&version.to_le_bytes());
    for (name, typ, value) in &attrs {
        head.extend_from_slice(name.as_bytes());
        head.push(0);
        head.extend_from_slice(typ.as_bytes());
        head.push(0);
        let size = i32::try_from(value.len())
            .map_err(|_| enc_err(format!("EXR attribute {name} is over 2 GiB")))?;
        head.extend_from_slice(&size.to_le_bytes());
        head.extend_from_slice(value);
    }
    head.push(0);
    let mut offset = (head.len() + 8 * n_blocks) as u64;
    for b in &blocks {
        head.extend_from_slice(&offset.to_le_bytes());
        offset += b.len() as u64;
    }
    Ok(ExrFile { head, blocks })
}
