//! Camera log encodings and the ACES log working spaces: decode (code value → scene linear)
//! and encode (scene linear → code value), from the vendors' published formulas.

/// A transfer function between code values and scene-linear values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    Linear,
    ArriLogC3Ei800,
    ArriLogC4,
    SonySLog3,
    RedLog3G10,
    PanasonicVLog,
    CanonLog2,
    CanonLog3,
    BmdFilmGen5,
    DaVinciIntermediate,
    AppleLog,
    DjiDLog,
    AcesCct,
    AcesCc,
}

// ARRI LogC3, EI 800 (ALEXA LogC curve, usage in VFX).
const LC3_CUT: f64 = 0.010591;
const LC3_A: f64 = 5.555556;
const LC3_B: f64 = 0.052272;
const LC3_C: f64 = 0.247190;
const LC3_D: f64 = 0.385537;
const LC3_E: f64 = 5.367655;
const LC3_F: f64 = 0.092809;

// RED Log3G10 (v3 of the RED whitepaper).
const R3_A: f64 = 0.224282;
const R3_B: f64 = 155.975327;
const R3_C: f64 = 0.01;
const R3_G: f64 = 15.1927;

// Panasonic V-Log.
const VL_CUT2: f64 = 0.181;
const VL_B: f64 = 0.00873;
const VL_C: f64 = 0.241514;
const VL_D: f64 = 0.598206;

// Blackmagic Film Generation 5.
const BMD_A: f64 = 0.086_928_760_654_912_24;
const BMD_B: f64 = 0.005_494_072_432_257_808;
const BMD_C: f64 = 0.530_013_339_229_193_9;
const BMD_D: f64 = 8.283_605_932_402_494;
const BMD_E: f64 = 0.092_465_753_424_657_53;
const BMD_LIN_CUT: f64 = 0.005;

// DaVinci Intermediate.
const DI_A: f64 = 0.0075;
const DI_B: f64 = 7.0;
const DI_C: f64 = 0.07329248;
const DI_M: f64 = 10.44426855;
const DI_LIN_CUT: f64 = 0.00262409;
const DI_LOG_CUT: f64 = 0.02740668;

// Apple Log.
const AL_R0: f64 = -0.05641088;
const AL_RT: f64 = 0.01;
const AL_C: f64 = 47.28711236;
const AL_B: f64 = 0.00964052;
const AL_G: f64 = 0.08550479;
const AL_BETA: f64 = 0.69336945;

// ACEScct.
const CCT_X_BRK: f64 = 0.0078125;
const CCT_Y_BRK: f64 = 0.155_251_141_552_511;
const CCT_A: f64 = 10.540_237_741_654_5;
const CCT_B: f64 = 0.072_905_534_195_835_5;

fn logc4_consts() -> (f64, f64, f64, f64, f64) {
    let a = (2f64.powi(18) - 16.0) / 117.45;
    let b = (1023.0 - 95.0) / 1023.0;
    let c = 95.0 / 1023.0;
    let s = (7.0 * std::f64::consts::LN_2 * 2f64.powf(7.0 - 14.0 * c / b)) / (a * b);
    let t = (2f64.powf(14.0 * (-c / b) + 6.0) - 64.0) / a;
    (a, b, c, s, t)
}

impl Curve {
    /// Code value → scene-linear.
    pub fn decode(self, v: f64) -> f64 {
        match self {
            Curve::Linear => v,
            Curve::ArriLogC3Ei800 => {
                if v > LC3_E * LC3_CUT + LC3_F {
                    (10f64.powf((v - LC3_D) / LC3_C) - LC3_B) / LC3_A
                } else {
                    (v - LC3_F) / LC3_E
                }
            }
            Curve::ArriLogC4 => {
                let (a, b, c, s, t) = logc4_consts();
                if v >= 0.0 {
                    (2f64.powf(14.0 * (v - c) / b + 6.0) - 64.0) / a
                } else {
                    v * s + t
                }
            }
            Curve::SonySLog3 => {
                if v >= 171.2102946929 / 1023.0 {
                    10f64.powf((v * 1023.0 - 420.0) / 261.5) * (0.18 + 0.01) - 0.01
                } else {
                    (v * 1023.0 - 95.0) * 0.01125000 / (171.2102946929 - 95.0)
                }
            }
            Curve::RedLog3G10 => {
                if v < 0.0 {
                    v / R3_G - R3_C
                } else {
                    (10f64.powf(v / R3_A) - 1.0) / R3_B - R3_C
                }
            }
            Curve::PanasonicVLog => {
                if v < VL_CUT2 {
                    (v - 0.125) / 5.6
                } else {
                    10f64.powf((v - VL_D) / VL_C) - VL_B
                }
            }
            Curve::CanonLog2 => {
                // Canon's transforms (and the studio config) read code values in [0, 1].
                let v = v.clamp(0.0, 1.0);
                let x = if v < 0.092864125 {
                    -(10f64.powf((0.092864125 - v) / 0.24136077) - 1.0) / 87.09937546
                } else {
                    (10f64.powf((v - 0.092864125) / 0.24136077) - 1.0) / 87.09937546
                };
                x * 0.9
            }
            Curve::CanonLog3 => {
                let v = v.clamp(0.0, 1.0);
                let x = if v < 0.097465473 {
                    -(10f64.powf((0.12783901 - v) / 0.36726845) - 1.0) / 14.98325
                } else if v <= 0.15277891 {
                    (v - 0.12512219) / 1.9754798
                } else {
                    (10f64.powf((v - 0.12240537) / 0.36726845) - 1.0) / 14.98325
                };
                x * 0.9
            }
            Curve::BmdFilmGen5 => {
                let log_cut = BMD_D * BMD_LIN_CUT + BMD_E;
                if v < log_cut {
                    (v - BMD_E) / BMD_D
                } else {
                    ((v - BMD_C) / BMD_A).exp() - BMD_B
                }
            }
            Curve::DaVinciIntermediate => {
                if v <= DI_LOG_CUT {
                    v / DI_M
                } else {
                    2f64.powf(v / DI_C - DI_B) - DI_A
                }
            }
            Curve::AppleLog => {
                if v >= AL_C * (AL_RT - AL_R0).powi(2) {
                    2f64.powf((v - AL_BETA) / AL_G) - AL_B
                } else if v >= 0.0 {
                    (v / AL_C).sqrt() + AL_R0
                } else {
                    AL_R0
                }
            }
            Curve::DjiDLog => {
                if v <= 0.14 {
                    (v - 0.0929) / 6.025
                } else {
                    (10f64.powf(3.89616 * v - 2.27752) - 0.0108) / 0.9892
                }
            }
            Curve::AcesCct => {
                if v <= CCT_Y_BRK {
                    (v - CCT_B) / CCT_A
                } else {
                    2f64.powf(v * 17.52 - 9.72).min(65504.0)
                }
            }
            Curve::AcesCc => {
                // The studio config reads ACEScc code values in [-0.36, 1.5].
                let v = v.clamp(-0.36, 1.5);
                if v < (9.72 - 15.0) / 17.52 {
                    (2f64.powf(v * 17.52 - 9.72) - 2f64.powi(-16)) * 2.0
                } else if v < (65504f64.log2() + 9.72) / 17.52 {
                    2f64.powf(v * 17.52 - 9.72)
                } else {
                    65504.0
                }
            }
        }
    }

    /// Scene-linear → code value.
    pub fn encode(self, x: f64) -> f64 {
        match self {
            Curve::Linear => x,
            Curve::ArriLogC3Ei800 => {
                if x > LC3_CUT {
                    LC3_C * (LC3_A * x + LC3_B).log10() + LC3_D
                } else {
                    LC3_E * x + LC3_F
                }
            }
            Curve::ArriLogC4 => {
                let (a, b, c, s, t) = logc4_consts();
                if x >= t {
                    ((a * x + 64.0).log2() - 6.0) / 14.0 * b + c
                } else {
                    (x - t) / s
                }
            }
            Curve::SonySLog3 => {
                if x >= 0.01125000 {
                    (420.0 + ((x + 0.01) / (0.18 + 0.01)).log10() * 261.5) / 1023.0
                } else {
                    (x * (171.2102946929 - 95.0) / 0.01125000 + 95.0) / 1023.0
                }
            }
            Curve::RedLog3G10 => {
                let y = x + R3_C;
                if y < 0.0 {
                    y * R3_G
                } else {
                    R3_A * (y * R3_B + 1.0).log10()
                }
            }
            Curve::PanasonicVLog => {
                if x < 0.01 {
                    5.6 * x + 0.125
                } else {
                    VL_C * (x + VL_B).log10() + VL_D
                }
            }
            Curve::AcesCct => {
                if x <= CCT_X_BRK {
                    CCT_A * x + CCT_B
                } else {
                    (x.log2() + 9.72) / 17.52
                }
            }
            Curve::AcesCc => {
                if x < 2f64.powi(-15) {
                    // Continues below 0 as the studio config does, floored at -0.36.
                    let arg = 2f64.powi(-16) + x * 0.5;
                    if arg <= 0.0 {
                        -0.36
                    } else {
                        ((arg.log2() + 9.72) / 17.52).max(-0.36)
                    }
                } else {
                    (x.log2() + 9.72) / 17.52
                }
            }
            Curve::BmdFilmGen5 => {
                if x < BMD_LIN_CUT {
                    BMD_D * x + BMD_E
                } else {
                    BMD_A * (x + BMD_B).ln() + BMD_C
                }
            }
            Curve::DaVinciIntermediate => {
                if x <= DI_LIN_CUT {
                    x * DI_M
                } else {
                    ((x + DI_A).log2() + DI_B) * DI_C
                }
            }
            Curve::AppleLog => {
                if x >= AL_RT {
                    AL_G * (x + AL_B).log2() + AL_BETA
                } else if x >= AL_R0 {
                    AL_C * (x - AL_R0).powi(2)
                } else {
                    0.0
                }
            }
            Curve::CanonLog2 => {
                let x = x / 0.9;
                if x < 0.0 {
                    -(0.24136077 * (-x * 87.09937546 + 1.0).log10()) + 0.092864125
                } else {
                    0.24136077 * (x * 87.09937546 + 1.0).log10() + 0.092864125
                }
            }
            Curve::CanonLog3 => {
                let x = x / 0.9;
                if x < -0.014 {
                    -0.36726845 * (1.0 - 14.98325 * x).log10() + 0.12783901
                } else if x <= 0.014 {
                    1.9754798 * x + 0.12512219
                } else {
                    0.36726845 * (14.98325 * x + 1.0).log10() + 0.12240537
                }
            }
            Curve::DjiDLog => {
                if x <= 0.0078 {
                    6.025 * x + 0.0929
                } else {
                    ((x * 0.9892 + 0.0108).log10() + 2.27752) / 3.89616
                }
            }
        }
    }
}
