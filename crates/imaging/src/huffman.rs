//! Huffman code lengths shared by our PIZ and ZIP coders: optimal lengths in place over
//! frequencies sorted ascending, linear after the sort.

/// Minimum-redundancy (Huffman) code lengths in place (Moffat and Katajainen's method): `a`
/// holds the frequencies sorted ascending, at least two of them; on return `a[i]` is the code
/// length of the symbol with the i-th smallest frequency.
pub(crate) fn minimum_redundancy_lengths(a: &mut [u64]) {
    let n = a.len();
    debug_assert!(n >= 2);
    // First pass, left to right: internal node weights and parent pointers.
    a[0] += a[1];
    let (mut root, mut leaf) = (0usize, 2usize);
    for next in 1..n - 1 {
        if leaf >= n || a[root] < a[leaf] {
            a[next] = a[root];
            a[root] = next as u64;
            root += 1;
        } else {
            a[next] = a[leaf];
            leaf += 1;
        }
        if leaf >= n || (root < next && a[root] < a[leaf]) {
            a[next] += a[root];
            a[root] = next as u64;
            root += 1;
        } else {
            a[next] += a[leaf];
            leaf += 1;
        }
    }
    // Second pass, right to left: internal node depths.
    a[n - 2] = 0;
    for next in (0..n.saturating_sub(2)).rev() {
        a[next] = a[a[next] as usize] + 1;
    }
    // Third pass, right to left: leaf depths.
    let (mut avail, mut used, mut depth) = (1i64, 0i64, 0u64);
    let mut root = n as i64 - 2;
    let mut next = n as i64 - 1;
    while avail > 0 {
        while root >= 0 && a[root as usize] == depth {
            used += 1;
            root -= 1;
        }
        while avail > used {
            a[next as usize] = depth;
            next -= 1;
            avail -= 1;
        }
        avail = 2 * used;
        depth += 1;
        used = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimum_redundancy_lengths_are_huffman_lengths() {
        let check = |freqs: &[u64], want: &[u64]| {
            let mut a = freqs.to_vec();
            minimum_redundancy_lengths(&mut a);
            assert_eq!(a, want, "{freqs:?}");
            // A complete code: the Kraft sum is exactly 1.
            let kraft: f64 = a.iter().map(|&l| 0.5f64.powi(l as i32)).sum();
            assert!((kraft - 1.0).abs() < 1e-12, "{freqs:?}");
        };
        check(&[1, 1], &[1, 1]);
        check(&[1, 1, 2], &[2, 2, 1]);
        check(&[1, 1, 1, 1], &[2, 2, 2, 2]);
        check(&[1, 2, 4, 8, 16], &[4, 4, 3, 2, 1]);
        check(&[5, 5, 5, 100], &[3, 3, 2, 1]);
    }
}
