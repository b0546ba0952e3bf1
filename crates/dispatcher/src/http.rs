//! The dispatcher's HTTP API: `POST /v1/turnovers` (202 with a receipt, or 422 with every
//! field error), `GET /v1/turnovers`, `GET /v1/turnovers/{id}`, `GET /v1/turnovers/{id}/chunks`,
//! plus the shared `/metrics` and `/health/*` routes.

use crate::{Dispatcher, SubmitError};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;

/// Request bodies larger than this are refused before parsing.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

pub fn router(dispatcher: Arc<Dispatcher>) -> Router {
    Router::new()
        .route("/v1/turnovers", post(submit).get(list))
        .route("/v1/turnovers/{id}", get(status))
        .route("/v1/turnovers/{id}/chunks", get(chunks))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(dispatcher)
}

fn internal(e: impl std::fmt::Display) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({"error": e.to_string()})),
    )
        .into_response()
}

async fn submit(State(d): State<Arc<Dispatcher>>, body: Bytes) -> Response {
    match d.submit(&body).await {
        Ok(receipt) => (StatusCode::ACCEPTED, Json(receipt)).into_response(),
        Err(SubmitError::Invalid(errors)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": "turnover rejected", "problems": errors.0})),
        )
            .into_response(),
        Err(e @ SubmitError::Queue { .. }) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
        Err(e) => internal(e),
    }
}

async fn list(State(d): State<Arc<Dispatcher>>) -> Response {
    match d.catalog().list_turnovers(200).await {
        Ok(list) => Json(list).into_response(),
        Err(e) => internal(e),
    }
}

async fn status(State(d): State<Arc<Dispatcher>>, Path(id): Path<String>) -> Response {
    match d.catalog().turnover(&id).await {
        Ok(Some(s)) => Json(s).into_response(),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("no turnover {id:?}")})),
        )
            .into_response(),
        Err(e) => internal(e),
    }
}

async fn chunks(State(d): State<Arc<Dispatcher>>, Path(id): Path<String>) -> Response {
    match d.catalog().chunks(&id).await {
        Ok(rows) if rows.is_empty() => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("no turnover {id:?}")})),
        )
            .into_response(),
        Ok(rows) => Json(rows).into_response(),
        Err(e) => internal(e),
    }
}
