//! ASC CDL (slope, offset, power, saturation) applied in ACEScct, as an AMF look does: ACES2065-1
//! → ACEScct → CDL (ASC v1.2 style: clamp to [0, 1] around power and after saturation, Rec.709
//! luma weights) → ACES2065-1.

use crate::pipeline::Pipeline;
use crate::spaces::ColorSpace;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cdl {
    pub slope: [f64; 3],
    pub offset: [f64; 3],
    pub power: [f64; 3],
    pub saturation: f64,
}

impl Default for Cdl {
    fn default() -> Self {
        Cdl {
            slope: [1.0; 3],
            offset: [0.0; 3],
            power: [1.0; 3],
            saturation: 1.0,
        }
    }
}

/// Why a CDL cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("ASC CDL {field} {value} is out of range ({allowed})")]
pub struct CdlError {
    pub field: &'static str,
    pub value: f64,
    pub allowed: &'static str,
}

impl Cdl {
    pub fn validate(&self) -> Result<(), CdlError> {
        for v in self.slope {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(CdlError {
                    field: "slope",
                    value: v,
                    allowed: "≥ 0",
                });
            }
        }
        for v in self.power {
            if !(v > 0.0 && v.is_finite()) {
                return Err(CdlError {
                    field: "power",
                    value: v,
                    allowed: "> 0",
                });
            }
        }
        for v in self.offset {
            if !v.is_finite() {
                return Err(CdlError {
                    field: "offset",
                    value: v,
                    allowed: "finite",
                });
            }
        }
        if !(self.saturation >= 0.0 && self.saturation.is_finite()) {
            return Err(CdlError {
                field: "saturation",
                value: self.saturation,
                allowed: "≥ 0",
            });
        }
        Ok(())
    }

    /// The CDL on values already in its working space.
    pub fn apply_working(&self, v: [f64; 3]) -> [f64; 3] {
        let mut o = [0.0; 3];
        for c in 0..3 {
            let sop = (v[c] * self.slope[c] + self.offset[c]).clamp(0.0, 1.0);
            o[c] = sop.powf(self.power[c]);
        }
        let luma = 0.2126 * o[0] + 0.7152 * o[1] + 0.0722 * o[2];
        o.map(|x| (luma + self.saturation * (x - luma)).clamp(0.0, 1.0))
    }
}

/// A CDL look in ACEScct on ACES2065-1 values.
#[derive(Debug, Clone, PartialEq)]
pub struct CdlLook {
    pub cdl: Cdl,
    to_cct: Pipeline,
    from_cct: Pipeline,
}

impl CdlLook {
    pub fn new(cdl: Cdl) -> Result<Self, CdlError> {
        cdl.validate()?;
        let aces = ColorSpace::from_name("ACES2065-1").expect("known space");
        let cct = ColorSpace::from_name("ACEScct").expect("known space");
        Ok(CdlLook {
            cdl,
            to_cct: Pipeline::new(aces, cct),
            from_cct: Pipeline::new(cct, aces),
        })
    }

    pub fn apply_pixel(&self, aces: [f64; 3]) -> [f64; 3] {
        self.from_cct
            .apply_pixel(self.cdl.apply_working(self.to_cct.apply_pixel(aces)))
    }

    /// Interleaved ACES2065-1 RGB in place: the f32 conversion paths (table decode back from
    /// ACEScct) around the CDL, a run of pixels at a time.
    pub fn apply_rgb(&self, rgb: &mut [f32]) {
        for run in rgb.chunks_mut(3 * 1024) {
            self.to_cct.apply_rgb(run);
            for px in run.chunks_exact_mut(3) {
                let out = self.cdl.apply_working([px[0], px[1], px[2]].map(f64::from));
                for (o, v) in px.iter_mut().zip(out) {
                    *o = v as f32;
                }
            }
            self.from_cct.apply_rgb(run);
        }
    }
}
