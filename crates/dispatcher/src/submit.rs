//! `Dispatcher::submit`: validate → resolve against storage → plan → record. Publishing is the
//! feeder's job, so a submission never waits for (or fails on) the broker.

use crate::{Dispatcher, SubmitError, SubmitReceipt};
use platefarm_catalog::{Inserted, NewShot, NewTurnover};
use platefarm_core::{parse_turnover, plan_chunks, FieldError, ShotFrames, ValidationErrors};

fn generated_id(now: chrono::DateTime<chrono::Utc>) -> String {
    let tail = uuid::Uuid::new_v4().simple().to_string();
    format!("TO-{}-{}", now.format("%Y%m%d-%H%M%S"), &tail[..6])
}

impl Dispatcher {
    /// Validates, resolves against storage, plans and records a turnover. Submitting the same
    /// request (same `turnover_id`) again returns the first receipt with `existing: true`.
    pub async fn submit(&self, body: &[u8]) -> Result<SubmitReceipt, SubmitError> {
        let now = (self.clock)();
        let turnover = match parse_turnover(body, &generated_id(now)) {
            Ok(t) => t,
            Err(e) => {
                self.metrics.turnovers_rejected.inc();
                return Err(e.into());
            }
        };
        let mut errors: Vec<FieldError> = Vec::new();
        let mut shots = Vec::new();
        for (i, shot) in turnover.shots.iter().enumerate() {
            let resolved = crate::resolve::resolve_shot(
                self.store.as_ref(),
                shot,
                &format!("$.shots[{i}]"),
                &mut errors,
            )
            .await;
            if let Some(r) = resolved {
                shots.push(NewShot {
                    name: shot.name.clone(),
                    input_pattern: r.pattern.to_string(),
                });
            }
        }
        if !errors.is_empty() {
            self.metrics.turnovers_rejected.inc();
            return Err(ValidationErrors(errors).into());
        }
        let shot_frames: Vec<ShotFrames> = turnover
            .shots
            .iter()
            .enumerate()
            .map(|(i, s)| ShotFrames {
                shot_idx: i,
                shot_name: s.name.clone(),
                frames: s.render_range(),
            })
            .collect();
        let chunks = plan_chunks(&turnover.turnover_id, &shot_frames, self.config.chunk_size)
            .map_err(|e| {
                ValidationErrors(vec![FieldError {
                    path: "$".into(),
                    reason: e.to_string(),
                }])
            })?;
        let request_json = serde_json::to_string(&turnover).expect("turnovers serialise");
        let receipt = SubmitReceipt {
            turnover_id: turnover.turnover_id.clone(),
            n_shots: turnover.shots.len(),
            n_chunks: chunks.len(),
            n_frames: shot_frames.iter().map(|s| s.frames.n_frames()).sum(),
            existing: false,
        };
        let inserted = self
            .catalog
            .insert_turnover(
                &NewTurnover {
                    turnover_id: turnover.turnover_id.clone(),
                    production: turnover.production.clone(),
                    priority: turnover.priority,
                    deadline: turnover.deadline,
                    submitted_at: now,
                    request_json: request_json.clone(),
                    shots,
                },
                &chunks,
            )
            .await?;
        if let Inserted::Existing {
            request_json: before,
        } = inserted
        {
            // Same request again (a client retrying after a timeout): the same answer.
            let same = serde_json::from_str::<serde_json::Value>(&before).ok()
                == serde_json::from_str::<serde_json::Value>(&request_json).ok();
            if !same {
                return Err(SubmitError::Conflict(turnover.turnover_id));
            }
            return Ok(SubmitReceipt {
                existing: true,
                ..receipt
            });
        }
        self.metrics.turnovers_submitted.inc();
        self.metrics.chunks_planned.inc_by(chunks.len() as u64);
        tracing::info!(turnover_id = %turnover.turnover_id, shots = turnover.shots.len(), chunks = chunks.len(), "turnover accepted");
        self.feed_wake.notify_one();
        Ok(receipt)
    }
}
