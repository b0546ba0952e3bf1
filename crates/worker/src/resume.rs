//! The record of a chunk's finished frames, kept in the store beside nothing a delivery sees:
//! `.platefarm/chunks/<turnover_id>/<chunk_id>.json`, rewritten (atomically) after each frame.
//! A redelivered chunk of the *same turnover* skips a frame only if the record lists it and
//! the object still has the recorded size; a plate left by another turnover at the same key is
//! rendered again. Hashes are checked again when the shot is delivered.

use platefarm_core::{ChunkMessage, OutputFile};
use platefarm_store::{ObjectStore, StoreError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct ChunkRecord {
    #[serde(skip)]
    key: String,
    turnover_id: String,
    chunk_id: String,
    outputs: Vec<OutputFile>,
}

pub(crate) fn record_key(msg: &ChunkMessage) -> String {
    // Chunk ids hold `:`, which object keys allow; `/` cannot occur in a validated name.
    format!(
        ".platefarm/chunks/{}/{}.json",
        msg.turnover_id,
        msg.chunk_id.replace('/', "_")
    )
}

impl ChunkRecord {
    pub(crate) async fn load(
        store: &dyn ObjectStore,
        msg: &ChunkMessage,
    ) -> Result<Self, StoreError> {
        let key = record_key(msg);
        let fresh = || ChunkRecord {
            key: key.clone(),
            turnover_id: msg.turnover_id.clone(),
            chunk_id: msg.chunk_id.clone(),
            outputs: Vec::new(),
        };
        match store.get(&key, 16 << 20).await {
            Ok(bytes) => match serde_json::from_slice::<ChunkRecord>(&bytes) {
                Ok(mut r) if r.turnover_id == msg.turnover_id && r.chunk_id == msg.chunk_id => {
                    r.key = key;
                    Ok(r)
                }
                // Unreadable or someone else's: start over (rendering again is always safe).
                _ => Ok(fresh()),
            },
            Err(StoreError::NotFound { .. }) => Ok(fresh()),
            Err(e) => Err(e),
        }
    }

    /// The recorded output at `key` if the object is still there with its recorded size.
    pub(crate) async fn finished(&self, store: &dyn ObjectStore, key: &str) -> Option<OutputFile> {
        let o = self.outputs.iter().find(|o| o.key == key)?;
        match store.head(key).await {
            Ok(Some(size)) if size == o.size => Some(o.clone()),
            _ => None,
        }
    }

    pub(crate) async fn add(
        &mut self,
        store: &dyn ObjectStore,
        file: OutputFile,
    ) -> Result<(), StoreError> {
        self.outputs.retain(|o| o.key != file.key);
        self.outputs.push(file);
        let bytes = serde_json::to_vec(&self).expect("records serialise");
        store.put(&self.key, bytes).await
    }
}
