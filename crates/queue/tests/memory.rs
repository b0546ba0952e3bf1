//! The in-process queue passes the shared conformance suite.

use platefarm_queue::{conformance, MemoryQueue};

#[tokio::test]
async fn memory_queue_conforms() {
    conformance::run_all(&MemoryQueue::new(), "conf").await;
}
