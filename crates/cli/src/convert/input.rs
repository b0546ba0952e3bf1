//! `convert`'s input files, mapped into memory rather than read (a fallback read where a
//! file cannot be mapped).

use std::path::Path;

/// An input file's bytes, mapped rather than read: reading copies the whole file on one
/// thread before any work starts (a 55 MB plate: tens of milliseconds, an eighth of a
/// frame), while mapped pages come in as the parallel decode reaches them. A file that
/// cannot be mapped (a pipe, an empty file) is read.
pub(super) enum InputBytes {
    Mapped(*const u8, usize),
    Read(Vec<u8>),
}

// SAFETY: the mapping is read-only and owned by this value; sharing `&[u8]` views of it
// between threads is as safe as sharing a `Vec<u8>`'s.
unsafe impl Sync for InputBytes {}
unsafe impl Send for InputBytes {}

impl InputBytes {
    pub(super) fn open(path: &Path) -> std::io::Result<Self> {
        use std::os::fd::AsRawFd;
        let file = std::fs::File::open(path)?;
        let len = file.metadata()?.len() as usize;
        if len > 0 {
            // SAFETY: a private read-only mapping of a file we opened; the bytes are only
            // read through `deref`, and the mapping lives until `drop`. (A file truncated
            // while we read it would fault, as with any mapped input.)
            let ptr = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE,
                    file.as_raw_fd(),
                    0,
                )
            };
            if ptr != libc::MAP_FAILED {
                return Ok(InputBytes::Mapped(ptr as *const u8, len));
            }
        }
        std::fs::read(path).map(InputBytes::Read)
    }
}

impl std::ops::Deref for InputBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            // SAFETY: `ptr` maps `len` readable bytes for as long as `self` lives.
            InputBytes::Mapped(ptr, len) => unsafe { std::slice::from_raw_parts(*ptr, *len) },
            InputBytes::Read(v) => v,
        }
    }
}

impl Drop for InputBytes {
    fn drop(&mut self) {
        if let InputBytes::Mapped(ptr, len) = self {
            // SAFETY: unmaps exactly the mapping `open` made; no view of it outlives `self`.
            unsafe { libc::munmap(*ptr as *mut libc::c_void, *len) };
        }
    }
}
