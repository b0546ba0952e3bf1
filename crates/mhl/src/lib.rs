//! ASC MHL v2.0 histories on a local directory: create a generation (hash every file, streaming,
//! in parallel across files; directory content and structure hashes as the ASC reference tool
//! computes them; the `ascmhl/` folder with numbered manifests and `ascmhl_chain.xml`), verify
//! a tree against its history, and summarise a history. Writes only inside `<root>/ascmhl/`.

pub mod hash;
mod history;

pub use hash::{hash_data, hash_of_hash_list, HashFormat};
pub use history::{
    create_generation, info, recorded_directory_hashes, verify, CreateOptions, CreatorInfo,
    FileOutcome, GenerationInfo, GenerationSummary, HistoryInfo, MhlError, VerifyReport,
};
