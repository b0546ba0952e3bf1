//! The hash formats of ASC MHL, streamed with a constant-size buffer, and encoded exactly as the
//! reference tool writes them (lower-case hex; C4 as base58 of SHA-512 with a `c4` prefix).

use md5::Digest as _;
use num_bigint::BigUint;
use std::io::Read;

/// The hash formats ASC MHL defines (xxh32 is read by the reference tool but not offered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HashFormat {
    Xxh64,
    Xxh3,
    Xxh128,
    Md5,
    Sha1,
    C4,
}

impl HashFormat {
    pub const ALL: [HashFormat; 6] = [
        HashFormat::Xxh64,
        HashFormat::Xxh3,
        HashFormat::Xxh128,
        HashFormat::Md5,
        HashFormat::Sha1,
        HashFormat::C4,
    ];

    /// The element name in MHL files.
    pub fn name(self) -> &'static str {
        match self {
            HashFormat::Xxh64 => "xxh64",
            HashFormat::Xxh3 => "xxh3",
            HashFormat::Xxh128 => "xxh128",
            HashFormat::Md5 => "md5",
            HashFormat::Sha1 => "sha1",
            HashFormat::C4 => "c4",
        }
    }

    /// The format named `name` (`xxh64`, `xxh3`, `xxh128`, `md5`, `sha1`, `c4`).
    pub fn from_name(name: &str) -> Option<HashFormat> {
        HashFormat::ALL.into_iter().find(|f| f.name() == name)
    }
}

enum State {
    Xxh64(xxhash_rust::xxh64::Xxh64),
    Xxh3(Box<xxhash_rust::xxh3::Xxh3>),
    Xxh128(Box<xxhash_rust::xxh3::Xxh3>),
    Md5(md5::Md5),
    Sha1(sha1::Sha1),
    C4(sha2::Sha512),
}

/// An incremental hash.
pub struct Hasher {
    state: State,
}

const C4_CHARSET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

impl Hasher {
    /// A fresh hash state.
    pub fn new(format: HashFormat) -> Self {
        let state = match format {
            HashFormat::Xxh64 => State::Xxh64(xxhash_rust::xxh64::Xxh64::new(0)),
            HashFormat::Xxh3 => State::Xxh3(Box::new(xxhash_rust::xxh3::Xxh3::new())),
            HashFormat::Xxh128 => State::Xxh128(Box::new(xxhash_rust::xxh3::Xxh3::new())),
            HashFormat::Md5 => State::Md5(md5::Md5::new()),
            HashFormat::Sha1 => State::Sha1(sha1::Sha1::new()),
            HashFormat::C4 => State::C4(sha2::Sha512::new()),
        };
        Hasher { state }
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.state {
            State::Xxh64(h) => h.update(data),
            State::Xxh3(h) | State::Xxh128(h) => h.update(data),
            State::Md5(h) => h.update(data),
            State::Sha1(h) => h.update(data),
            State::C4(h) => h.update(data),
        }
    }

    /// The digest as MHL writes it.
    pub fn finish(self) -> String {
        match self.state {
            State::Xxh64(h) => format!("{:016x}", h.digest()),
            State::Xxh3(h) => format!("{:016x}", h.digest()),
            State::Xxh128(h) => format!("{:032x}", h.digest128()),
            State::Md5(h) => hex(&h.finalize()),
            State::Sha1(h) => hex(&h.finalize()),
            State::C4(h) => c4_encode(&h.finalize()),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn c4_encode(sha512: &[u8]) -> String {
    let mut n = BigUint::from_bytes_be(sha512);
    let base = BigUint::from(58u32);
    let zero = BigUint::from(0u32);
    let mut digits = Vec::new();
    while n != zero {
        let rem = (&n % &base).to_u32_digits().first().copied().unwrap_or(0) as usize;
        digits.push(C4_CHARSET[rem]);
        n /= &base;
    }
    while digits.len() < 88 {
        digits.push(b'1');
    }
    digits.reverse();
    format!("c4{}", String::from_utf8(digits).expect("ASCII"))
}

/// The bytes a digest string stands for (for hashes of hash lists); None if it is not a
/// digest of that format.
pub fn digest_bytes(format: HashFormat, digest: &str) -> Option<Vec<u8>> {
    if format == HashFormat::C4 {
        let body = digest.strip_prefix("c4")?;
        let mut n = BigUint::from(0u32);
        for c in body.bytes() {
            let v = C4_CHARSET.iter().position(|x| *x == c)?;
            n = n * 58u32 + v as u32;
        }
        let mut bytes = n.to_bytes_be();
        while bytes.len() < 64 {
            bytes.insert(0, 0);
        }
        return Some(bytes);
    }
    if digest.len() % 2 != 0 {
        return None;
    }
    (0..digest.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digest[i..i + 2], 16).ok())
        .collect()
}

/// The digest of a byte string.
pub fn hash_data(format: HashFormat, data: &[u8]) -> String {
    let mut h = Hasher::new(format);
    h.update(data);
    h.finish()
}

/// Hash of a list of hashes: sorted, decoded to bytes, concatenated (the empty digest for none).
pub fn hash_of_hash_list(format: HashFormat, hashes: &[String]) -> String {
    let mut sorted = hashes.to_vec();
    sorted.sort();
    let mut h = Hasher::new(format);
    for s in &sorted {
        h.update(&digest_bytes(format, s).unwrap_or_default());
    }
    h.finish()
}

/// Hashes one file in several formats with a single read pass (1 MiB buffer): the reference
/// tool does the same when a history's earlier format must be verified alongside a new one.
pub fn hash_file(path: &std::path::Path, formats: &[HashFormat]) -> std::io::Result<Vec<String>> {
    let mut hashers: Vec<Hasher> = formats.iter().map(|f| Hasher::new(*f)).collect();
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; BUFFER_SIZE];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        for h in &mut hashers {
            h.update(&buf[..n]);
        }
    }
    Ok(hashers.into_iter().map(Hasher::finish).collect())
}

/// Read size for file hashing: large enough for sequential throughput, small enough that
/// memory stays constant per worker thread.
pub const BUFFER_SIZE: usize = 1 << 20;

/// Streams a reader through a hash with a 1 MiB buffer (constant memory).
pub fn hash_reader(format: HashFormat, mut r: impl Read) -> std::io::Result<String> {
    let mut h = Hasher::new(format);
    let mut buf = vec![0u8; BUFFER_SIZE];
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        assert_eq!(hash_data(HashFormat::Xxh64, b""), "ef46db3751d8e999");
        assert_eq!(
            hash_data(HashFormat::Md5, b"abc"),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            hash_data(HashFormat::Sha1, b"abc"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        let c4 = hash_data(HashFormat::C4, b"");
        assert_eq!(c4.len(), 90);
        assert_eq!(digest_bytes(HashFormat::C4, &c4).unwrap().len(), 64);
        assert_eq!(c4_encode(&digest_bytes(HashFormat::C4, &c4).unwrap()), c4);
    }
}
