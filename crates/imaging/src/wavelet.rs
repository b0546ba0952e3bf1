//! OpenEXR's PIZ wavelet, encoding side: the 2D Haar transform of ImfWav.cpp (14-bit when every
//! value is below 2^14, else the 16-bit modular one), level by level, in place.

/// One step of the 14-bit wavelet (values below 2^14: plain averages and differences).
/// OpenEXR computes in `int`; in 16 bits it is the same, as no sum leaves `i16`: every
/// step takes two averages (in `0..2^14`) or two differences of averages (within ±2^14).
/// 16-bit lanes let the compiler do eight at a time.
#[inline(always)]
fn wenc14(a: u16, b: u16) -> (u16, u16) {
    let (a, b) = (a as i16, b as i16);
    ((a.wrapping_add(b) >> 1) as u16, a.wrapping_sub(b) as u16)
}

/// One step of the 16-bit wavelet (modular arithmetic, so any 16-bit values round-trip).
#[inline(always)]
fn wenc16(a: u16, b: u16) -> (u16, u16) {
    let ao = (i32::from(a) + (1 << 15)) & 0xffff;
    let b = i32::from(b);
    let mut m = (ao + b) >> 1;
    let d = ao - b;
    if d < 0 {
        m = (m + (1 << 15)) & 0xffff;
    }
    (m as u16, (d & 0xffff) as u16)
}

/// OpenEXR's 2D Haar wavelet over `nx × ny` samples `ox` apart in a row and `oy` between rows.
pub(crate) fn wav2_encode(
    buf: &mut [u16],
    nx: usize,
    ox: usize,
    ny: usize,
    oy: usize,
    max_value: u16,
) {
    if max_value < 1 << 14 {
        wav2_levels(buf, nx, ox, ny, oy, wenc14);
    } else {
        wav2_levels(buf, nx, ox, ny, oy, wenc16);
    }
}

#[inline(always)]
fn wav2_levels(
    buf: &mut [u16],
    nx: usize,
    ox: usize,
    ny: usize,
    oy: usize,
    enc: impl Fn(u16, u16) -> (u16, u16) + Copy,
) {
    let n = nx.min(ny);
    let mut p = 1;
    if ox == 1 && n >= 2 {
        wav2_first_level(buf, nx, ny, oy, enc);
        p = 2;
    }
    let mut p2 = p * 2;
    while p2 <= n {
        let (ox1, oy1, ox2, oy2) = (ox * p, oy * p, ox * p2, oy * p2);
        let mut py = 0;
        let ey = oy * (ny - p2);
        while py <= ey {
            let mut px = py;
            let ex = py + ox * (nx - p2);
            while px <= ex {
                let (p01, p10) = (px + ox1, px + oy1);
                let p11 = p10 + ox1;
                let (i00, i01) = enc(buf[px], buf[p01]);
                let (i10, i11) = enc(buf[p10], buf[p11]);
                (buf[px], buf[p10]) = enc(i00, i10);
                (buf[p01], buf[p11]) = enc(i01, i11);
                px += ox2;
            }
            // An odd column left over.
            if nx & p != 0 {
                let p10 = px + oy1;
                (buf[px], buf[p10]) = enc(buf[px], buf[p10]);
            }
            py += oy2;
        }
        // An odd row left over.
        if ny & p != 0 {
            let mut px = py;
            let ex = py + ox * (nx - p2);
            while px <= ex {
                let p01 = px + ox1;
                (buf[px], buf[p01]) = enc(buf[px], buf[p01]);
                px += ox2;
            }
        }
        p = p2;
        p2 <<= 1;
    }
}

/// The first (finest) level for adjacent samples (half channels): the same steps as the
/// general loop, over pairs of rows as slices, so it runs without index arithmetic per sample.
#[inline(always)]
fn wav2_first_level(
    buf: &mut [u16],
    nx: usize,
    ny: usize,
    oy: usize,
    enc: impl Fn(u16, u16) -> (u16, u16) + Copy,
) {
    let pairs = nx / 2 * 2;
    for y in (0..ny / 2 * 2).step_by(2) {
        let (r0, rest) = buf[y * oy..].split_at_mut(oy);
        let (r0, r1) = (&mut r0[..nx], &mut rest[..nx]);
        // Each 2×2 quad: both rows' pairs first, then the columns (an odd last column only
        // vertically) — the same steps in the same order, as passes the compiler vectorises.
        for r in [&mut *r0, &mut *r1] {
            for a in r[..pairs].chunks_exact_mut(2) {
                (a[0], a[1]) = enc(a[0], a[1]);
            }
        }
        for (a, b) in r0.iter_mut().zip(r1.iter_mut()) {
            (*a, *b) = enc(*a, *b);
        }
    }
    // An odd row left over.
    if ny & 1 != 0 {
        for a in buf[(ny - 1) * oy..][..pairs].chunks_exact_mut(2) {
            (a[0], a[1]) = enc(a[0], a[1]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wavelet_steps_match_openexr_arithmetic() {
        // Worked by hand from OpenEXR's wenc14 / wenc16.
        assert_eq!(wenc14(10, 4), (7, 6));
        assert_eq!(wenc14(4, 10), (7, 0xfffa));
        assert_eq!(wenc16(0, 0xffff), (0x3fff, 0x8001));
        assert_eq!(wenc16(0xffff, 0), (0x3fff, 0x7fff));
    }
}
