//! Pictures for the people waiting on plates (the web page, `GET …/contact-sheet`,
//! `GET /v1/clips/thumbnail`): a turnover's contact sheet — the first delivered OpenEXR plate
//! of each shot (ACES2065-1) box-downscaled through the ACES 2.0 SDR 100-nit (Rec.709) view on
//! an sRGB display, laid out in a grid, as JPEG.

use platefarm_color::{Display, OutputTransform, View};
use platefarm_imaging as im;
use platefarm_store::{ObjectStore, StoreError};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Shots on one sheet (the first ones by name); the rest are counted in `left_out`.
pub const MAX_SHEET_SHOTS: usize = 24;
/// A plate larger than this is not read for a sheet.
pub const MAX_PLATE_BYTES: u64 = 1 << 30;

#[derive(Debug)]
pub struct ContactSheet {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// Shot names in tile order (row by row).
    pub shots: Vec<String>,
    /// Shots with a plate that could not be shown, with the reason.
    pub unreadable: Vec<(String, String)>,
    /// Shots beyond [`MAX_SHEET_SHOTS`].
    pub left_out: usize,
}

/// The first OpenEXR plate of each shot (keys in name order, so frame order for a padded
/// sequence). Shots with no plate yet are skipped.
pub fn first_plates(outputs: &BTreeMap<String, Vec<String>>) -> Vec<(String, String)> {
    outputs
        .iter()
        .filter_map(|(shot, keys)| {
            keys.iter()
                .filter(|k| k.to_ascii_lowercase().ends_with(".exr"))
                .min()
                .map(|k| (shot.clone(), k.clone()))
        })
        .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("encoding the contact sheet: {0}")]
    Encode(#[from] im::ImagingError),
}

/// Reads and shows the plates; `Ok(None)` when no shot has a readable plate. A store outage is
/// an error (the caller answers 503); a plate that does not decode is listed in `unreadable`.
pub async fn contact_sheet(
    store: &Arc<dyn ObjectStore>,
    plates: &[(String, String)],
    tile_width: u32,
) -> Result<Option<ContactSheet>, SheetError> {
    let view = Arc::new(OutputTransform::with_view(
        Display::Srgb,
        View::Aces20Sdr100Rec709,
    ));
    let left_out = plates.len().saturating_sub(MAX_SHEET_SHOTS);
    let mut tiles = Vec::new();
    let mut shots = Vec::new();
    let mut unreadable = Vec::new();
    for (shot, key) in plates.iter().take(MAX_SHEET_SHOTS) {
        let bytes = match store.get(key, MAX_PLATE_BYTES).await {
            Ok(b) => b,
            Err(e) if e.is_retryable() => return Err(e.into()),
            Err(e) => {
                unreadable.push((shot.clone(), e.to_string()));
                continue;
            }
        };
        let view = view.clone();
        let tile = tokio::task::spawn_blocking(move || {
            let img = im::decode_exr(&bytes, &im::DecodeLimits::default())?;
            Ok::<_, im::ImagingError>(im::preview_rgb8_with(&img, tile_width, &view))
        })
        .await;
        match tile {
            Ok(Ok(t)) => {
                tiles.push(t);
                shots.push(shot.clone());
            }
            Ok(Err(e)) => unreadable.push((shot.clone(), format!("{key}: {e}"))),
            Err(e) => unreadable.push((shot.clone(), format!("{key}: decoder stopped: {e}"))),
        }
    }
    if tiles.is_empty() {
        return Ok(None);
    }
    let columns = (tiles.len() as f64).sqrt().ceil() as usize;
    let (width, height, rgb) = im::contact_sheet(&tiles, columns.clamp(1, 6));
    let jpeg = im::encode_jpeg(width, height, &rgb, 85)?;
    Ok(Some(ContactSheet {
        jpeg,
        width,
        height,
        shots,
        unreadable,
        left_out,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_exr_of_each_shot_is_its_tile() {
        let outputs = BTreeMap::from([
            (
                "sh020".to_string(),
                vec![
                    "plates/sh020/sh020.1002.exr".to_string(),
                    "plates/sh020/sh020.1001.exr".to_string(),
                    "plates/sh020/sh020.mhl".to_string(),
                ],
            ),
            ("sh010".to_string(), vec!["plates/sh010/a.amf".to_string()]),
        ]);
        assert_eq!(
            first_plates(&outputs),
            vec![(
                "sh020".to_string(),
                "plates/sh020/sh020.1001.exr".to_string()
            )]
        );
    }
}
