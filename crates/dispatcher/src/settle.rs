//! The settler: for each turnover that may have changed, runs the deliveries that are due
//! (every chunk of the shot final) and then derives the turnover's state. A delivery failure is
//! retried, then recorded against the shot — the turnover ends `completed_with_failures` with
//! the reason, never `completed`.

use crate::{Dispatcher, Progress};
use platefarm_catalog::CatalogError;
use platefarm_core::{DeliveryState, Turnover, TurnoverState};
use std::collections::BTreeSet;
use tokio::sync::mpsc;

impl Dispatcher {
    pub(crate) async fn settle_loop(
        &self,
        mut rx: mpsc::UnboundedReceiver<String>,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        let mut failures = 0u32;
        loop {
            let first = tokio::select! {
                _ = &mut shutdown => return,
                t = rx.recv() => match t { Some(t) => t, None => return },
            };
            let mut due: BTreeSet<String> = BTreeSet::from([first]);
            while let Ok(t) = rx.try_recv() {
                due.insert(t);
            }
            for turnover_id in due {
                if let Err(e) = self.settle(&turnover_id).await {
                    failures += 1;
                    self.metrics.catalog_errors.inc();
                    tracing::warn!(turnover_id, error = %e, "settling failed, retrying");
                    tokio::time::sleep(self.backoff(failures)).await;
                    self.settle_later(turnover_id);
                } else {
                    failures = 0;
                }
            }
        }
    }

    async fn settle(&self, turnover_id: &str) -> Result<(), CatalogError> {
        for (t, shot) in self.catalog.deliveries_due(Some(turnover_id)).await? {
            self.deliver(&t, &shot).await?;
        }
        // While a chunk is pending the turnover is running: skip counting its chunks (two
        // aggregates over every row of the turnover) after each batch of results.
        if self.catalog.has_pending_chunks(turnover_id).await? {
            return Ok(());
        }
        let Some(summary) = self.catalog.turnover(turnover_id).await? else {
            return Ok(());
        };
        if summary.state.is_terminal() {
            return Ok(());
        }
        let counts = self.catalog.state_counts(turnover_id).await?;
        let state = TurnoverState::from_counts(&counts);
        if state != summary.state {
            self.catalog
                .set_turnover_state(turnover_id, state, (self.clock)())
                .await?;
            self.contexts.lock().expect("contexts").remove(turnover_id);
            self.metrics
                .turnovers_finished
                .with_label_values(&[state.as_str()])
                .inc();
            tracing::info!(turnover_id, state = %state, done = counts.done, failed = counts.failed, "turnover finished");
            self.emit(Progress::Turnover {
                turnover_id: turnover_id.into(),
                state,
            });
        }
        Ok(())
    }

    async fn deliver(&self, turnover_id: &str, shot: &str) -> Result<(), CatalogError> {
        let now = (self.clock)();
        let Some(hook) = &self.hook else {
            self.catalog
                .set_delivery(turnover_id, shot, DeliveryState::Delivered, None, now)
                .await?;
            return Ok(());
        };
        let turnover: Option<Turnover> = self
            .catalog
            .request_json(turnover_id)
            .await?
            .and_then(|j| serde_json::from_str(&j).ok());
        let idx = turnover
            .as_ref()
            .and_then(|t| t.shots.iter().position(|s| s.name == shot));
        let result = match (&turnover, idx) {
            (Some(t), Some(idx)) => {
                let outputs = self.catalog.outputs(turnover_id, Some(shot)).await?;
                let failed = self
                    .catalog
                    .shots(turnover_id)
                    .await?
                    .into_iter()
                    .find(|s| s.shot == shot)
                    .map(|s| s.chunks.failed + s.chunks.cancelled)
                    .unwrap_or(0);
                let mut last = Err(String::new());
                for attempt in 0..self.config.delivery_attempts.max(1) {
                    last = hook.shot_complete(t, idx, &outputs, failed).await;
                    match &last {
                        Ok(()) => break,
                        Err(e) => {
                            tracing::warn!(turnover_id, shot, attempt, error = %e, "delivery failed");
                            tokio::time::sleep(self.backoff(attempt)).await;
                        }
                    }
                }
                last
            }
            _ => Err(format!(
                "the recorded request of {turnover_id:?} has no shot {shot:?}"
            )),
        };
        let (state, detail) = match &result {
            Ok(()) => (DeliveryState::Delivered, None),
            Err(e) => (DeliveryState::Failed, Some(format!("delivery failed: {e}"))),
        };
        self.metrics
            .deliveries
            .with_label_values(&[state.as_str()])
            .inc();
        self.catalog
            .set_delivery(turnover_id, shot, state, detail.as_deref(), (self.clock)())
            .await?;
        self.emit(Progress::ShotDelivered {
            turnover_id: turnover_id.into(),
            shot: shot.into(),
            ok: result.is_ok(),
            detail,
        });
        Ok(())
    }
}
