//! The dispatcher's HTTP API (see docs/api.md and `openapi::document`):
//! `POST /v1/turnovers` (202 with a receipt; 200 for an identical resubmission; 400 malformed
//! JSON; 401 without the token; 409 an id reused for a different request; 413 above the body
//! limit; 422 with every field error), `GET /v1/turnovers[?production=&state=&limit=]`,
//! `GET /v1/turnovers/{id}` (state, per-shot progress, failures with reasons, output keys),
//! `GET …/{id}/chunks`, `POST …/{id}/cancel`, `POST …/{id}/retry-failed`, `GET …/{id}/events`
//! (server-sent events), `GET …/{id}/contact-sheet` (JPEG), `POST /v1/ingests`, `GET /v1/clips`,
//! `GET /v1/clips/thumbnail` (JPEG) and `GET /v1/openapi.json`; the web page (`crate::web`) is
//! merged in by `serve`. Every answer is counted in
//! `platefarm_dispatcher_http_requests_total` and timed by route *template* (`track`).

use crate::metrics::{DispatcherMetrics, UNMATCHED_ROUTE};
use crate::{Dispatcher, Progress, SubmitError};
use axum::body::Body;
use axum::extract::{MatchedPath, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use platefarm_catalog::{CatalogError, TurnoverFilter};
use platefarm_core::{ChunkState, TurnoverState};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Request bodies larger than this are refused (413) before parsing.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// The API routes; with `token`, every `/v1` route except the OpenAPI document needs
/// `Authorization: Bearer <token>`.
pub fn router(dispatcher: Arc<Dispatcher>, token: Option<String>) -> Router {
    let metrics = dispatcher.metrics.clone();
    let api = Router::new()
        .route("/v1/turnovers", post(submit).get(list))
        .route("/v1/turnovers/{id}", get(status))
        .route("/v1/turnovers/{id}/chunks", get(chunks))
        .route("/v1/turnovers/{id}/cancel", post(cancel))
        .route("/v1/turnovers/{id}/retry-failed", post(retry_failed))
        .route("/v1/turnovers/{id}/events", get(events))
        .route("/v1/turnovers/{id}/contact-sheet", get(contact_sheet))
        .route("/v1/clips", get(clips))
        .route("/v1/clips/thumbnail", get(clip_thumbnail))
        .route("/v1/ingests", post(ingest))
        .route("/v1/ingests/{id}", get(ingest_status))
        .with_state(dispatcher);
    let api = match token {
        Some(t) => api.layer(axum::middleware::from_fn_with_state(
            Arc::new(t),
            require_token,
        )),
        None => api,
    };
    api.route(
        "/v1/openapi.json",
        get(|| async { Json(crate::openapi::document()) }),
    )
    .fallback(|| async { error(StatusCode::NOT_FOUND, "no such route".into()) })
    // Outermost, so a 401 from the token check is counted too; `Router::layer` wraps each
    // route, so the matched template is known here.
    .layer(axum::middleware::from_fn_with_state(metrics, track))
}

/// Counts and times one request by its route template (never the raw path: ids stay out of
/// label values).
async fn track(State(metrics): State<DispatcherMetrics>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| UNMATCHED_ROUTE.to_string());
    let method = req.method().as_str().to_string();
    let started = std::time::Instant::now();
    let response = next.run(req).await;
    metrics.observe_request(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn catalog_error(e: CatalogError) -> Response {
    if e.is_retryable() {
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the catalog is unavailable, try again: {e}"),
        )
    } else {
        tracing::error!(error = %e, "catalog error");
        error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

fn not_found(id: &str) -> Response {
    error(StatusCode::NOT_FOUND, format!("no turnover {id:?}"))
}

/// The `{id}` of a turnover path. An id no turnover could have (a NUL, a space, 129
/// characters) is answered 404 with the reason before the catalog is asked.
struct TurnoverId(String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for TurnoverId {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Response> {
        let Path(id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match platefarm_core::validate::valid_name(&id) {
            Ok(()) => Ok(TurnoverId(id)),
            Err(reason) => Err(error(
                StatusCode::NOT_FOUND,
                format!("no turnover {id:?}: not a valid turnover id ({reason})"),
            )),
        }
    }
}

/// Constant-time comparison, so response timing does not reveal the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn require_token(State(token): State<Arc<String>>, req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(g) if same(g.trim().as_bytes(), token.as_bytes()) => next.run(req).await,
        Some(_) => {
            let mut r = error(StatusCode::UNAUTHORIZED, "wrong API token".into());
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("static"));
            r
        }
        None => {
            let mut r = error(
                StatusCode::UNAUTHORIZED,
                "missing API token: send 'Authorization: Bearer <token>' (platefarm --token or PLATEFARM_API_TOKEN)".into(),
            );
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("static"));
            r
        }
    }
}

/// Bodies above the limit are still read (and dropped) up to this much, so the client has sent
/// its request before it reads the 413 — closing on unread bytes resets the connection, and
/// many clients then never see the answer.
const DRAIN_BYTES: usize = 4 * MAX_BODY_BYTES;

/// The body if it is at most `limit` bytes; `None` above it (or if the client broke off).
async fn read_limited(body: Body, limit: usize) -> Option<Vec<u8>> {
    use futures_util::StreamExt;
    let mut stream = body.into_data_stream();
    let (mut buf, mut seen) = (Vec::new(), 0usize);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.ok()?;
        seen += chunk.len();
        if seen <= limit {
            buf.extend_from_slice(&chunk);
        } else if seen > DRAIN_BYTES {
            return None;
        } else {
            buf = Vec::new();
        }
    }
    (seen <= limit).then_some(buf)
}

async fn submit(State(d): State<Arc<Dispatcher>>, body: Body) -> Response {
    let body = match read_limited(body, MAX_BODY_BYTES).await {
        Some(b) => b,
        None => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "request body is larger than the limit of {} MiB",
                    MAX_BODY_BYTES >> 20
                ),
            )
        }
    };
    if let Err(e) = serde_json::from_slice::<Value>(&body) {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "malformed JSON at line {} column {}: {e}",
                e.line(),
                e.column()
            ),
        );
    }
    match d.submit(&body).await {
        Ok(receipt) if receipt.existing => (StatusCode::OK, Json(receipt)).into_response(),
        Ok(receipt) => (StatusCode::ACCEPTED, Json(receipt)).into_response(),
        Err(SubmitError::Invalid(errors)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": "turnover rejected", "problems": errors.0})),
        )
            .into_response(),
        Err(e @ SubmitError::Conflict(_)) => error(StatusCode::CONFLICT, e.to_string()),
        Err(SubmitError::Catalog(e)) => catalog_error(e),
    }
}

/// `POST /v1/ingests` `{"location": "day1/"}`: an ingest of a prefix of the farm's store as
/// farm work — its ASC MHL history verified here, then one job per clip on the workers' queue
/// (they inspect the clip and write its thumbnail beside the footage); `202` with the ingest id,
/// followed at `GET /v1/ingests/{id}`.
async fn ingest(State(d): State<Arc<Dispatcher>>, body: axum::body::Bytes) -> Response {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Request {
        location: String,
        #[serde(default = "yes")]
        thumbnails: bool,
    }
    fn yes() -> bool {
        true
    }
    let req: Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("malformed ingest request: {e}"),
            )
        }
    };
    let location = req.location.trim_matches('/');
    if let Err(reason) = platefarm_core::validate::plain_text(location) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("location {:?} {reason}", req.location),
        );
    }
    if !location.is_empty() {
        if let Err(e) = platefarm_store::check_key(location) {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("location {:?}: {e}", req.location),
            );
        }
    }
    let prefix = if location.is_empty() {
        String::new()
    } else {
        format!("{location}/")
    };
    match crate::ingest::submit_ingest(
        d.store().clone(),
        d.queue().as_ref(),
        d.catalog().as_ref(),
        &d.config().queues,
        &prefix,
        location,
        req.thumbnails,
    )
    .await
    {
        Ok(receipt) => (StatusCode::ACCEPTED, Json(receipt)).into_response(),
        Err(e @ crate::ingest::SubmitIngestError::Unavailable(_)) => {
            error(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
        }
        Err(e) => error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    }
}

/// `GET /v1/ingests/{id}`: an ingest's state, clip counts, frames, bad frames, failures.
async fn ingest_status(State(d): State<Arc<Dispatcher>>, Path(id): Path<String>) -> Response {
    if let Err(reason) = platefarm_core::validate::valid_name(&id) {
        return error(
            StatusCode::NOT_FOUND,
            format!("no ingest {id:?}: not a valid ingest id ({reason})"),
        );
    }
    match d.catalog().ingest(&id).await {
        Ok(Some(s)) => Json(s).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no ingest {id:?}")),
        Err(e) => catalog_error(e),
    }
}

/// `GET /v1/clips`: the catalog's clip search (docs/ingest.md). Each record gets its
/// `thumbnail_key` (relative to its location); `match` answers the editorial question for a
/// timecode: the first hit's clip, frame number, file and state.
async fn clips(
    State(d): State<Arc<Dispatcher>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut query = platefarm_catalog::ClipQuery {
        limit: 100,
        ..Default::default()
    };
    for (k, v) in &q {
        if let Err(reason) = platefarm_core::validate::plain_text(v) {
            return error(StatusCode::BAD_REQUEST, format!("{k} {v:?} {reason}"));
        }
        let text = Some(v.clone()).filter(|v| !v.trim().is_empty());
        match k.as_str() {
            "reel" => query.reel = text,
            "camera" => query.camera = text,
            "text" => query.text = text,
            "location" => query.location = text,
            "timecode" => match v.parse::<platefarm_ingest::Timecode>() {
                Ok(tc) => query.timecode = Some(tc),
                Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
            },
            "limit" => match v.parse::<u32>() {
                Ok(n) if (1..=1000).contains(&n) => query.limit = n,
                _ => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        format!("limit {v:?} is not a number in 1..=1000"),
                    )
                }
            },
            other => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("unknown query parameter {other:?} (reel, camera, timecode, text, location, limit)"),
                )
            }
        }
    }
    let hits = match d.catalog().search_clips(&query).await {
        Ok(h) => h,
        Err(e) => return catalog_error(e),
    };
    let matched = hits.iter().find_map(|h| {
        h.at.as_ref().map(|at| {
            json!({
                "clip": h.clip.name, "key": h.clip.key, "frame": at.frame, "file": at.key,
                "status": match &at.status {
                    platefarm_ingest::FrameStatus::Present => "present".to_string(),
                    platefarm_ingest::FrameStatus::Missing => "missing".to_string(),
                    platefarm_ingest::FrameStatus::Bad { reason } => format!("bad: {reason}"),
                },
            })
        })
    });
    let clips: Vec<Value> = hits
        .iter()
        .map(|h| {
            let mut v = serde_json::to_value(&h.clip).unwrap_or(Value::Null);
            v["thumbnail_key"] = Value::from(platefarm_ingest::thumbnail_key(&h.clip));
            v
        })
        .collect();
    Json(json!({ "clips": clips, "match": matched })).into_response()
}

fn jpeg(bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "private, no-cache"),
        ],
        bytes,
    )
        .into_response()
}

/// `GET /v1/clips/thumbnail?location=&key=`: the clip's thumbnail JPEG, read from the farm's
/// store beside the footage (`platefarm_ingest::thumbnail_key`). 404 names why there is none:
/// no such clip, ingested without thumbnails, or ingested from outside the farm's store.
async fn clip_thumbnail(
    State(d): State<Arc<Dispatcher>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (mut location, mut key) = (None, None);
    for (k, v) in &q {
        if let Err(reason) = platefarm_core::validate::plain_text(v) {
            return error(StatusCode::BAD_REQUEST, format!("{k} {v:?} {reason}"));
        }
        match k.as_str() {
            "location" => location = Some(v.as_str()),
            "key" => key = Some(v.as_str()),
            other => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("unknown query parameter {other:?} (location, key)"),
                )
            }
        }
    }
    let (Some(location), Some(key)) = (location, key) else {
        return error(
            StatusCode::BAD_REQUEST,
            "give both location and key of the clip (as GET /v1/clips lists them)".into(),
        );
    };
    let clip = match d.catalog().clip(location, key).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return error(
                StatusCode::NOT_FOUND,
                format!("no clip {key:?} at {location:?} in the catalog"),
            )
        }
        Err(e) => return catalog_error(e),
    };
    let thumb = platefarm_ingest::thumbnail_key(&clip);
    let store_key = match location.trim_matches('/') {
        "" => thumb,
        l => format!("{l}/{thumb}"),
    };
    if platefarm_store::check_key(&store_key).is_err() {
        return error(
            StatusCode::NOT_FOUND,
            format!("clip {key:?} was ingested from {location:?}, outside the farm's store: its thumbnail is there"),
        );
    }
    match d.store().get(&store_key, 16 << 20).await {
        Ok(bytes) => jpeg(bytes),
        Err(e) if e.is_retryable() => error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the store is unavailable, try again: {e}"),
        ),
        Err(e) => error(
            StatusCode::NOT_FOUND,
            format!("no thumbnail for clip {key:?} ({e}); ingest it with thumbnails"),
        ),
    }
}

/// `GET /v1/turnovers/{id}/contact-sheet[?width=]`: the first plate of each shot through the
/// ACES 2.0 SDR view, tiles at most `width` (64–1024, default 320) wide, as JPEG. The shots
/// shown are in `X-Platefarm-Shots`; 404 until some shot has a plate.
async fn contact_sheet(
    State(d): State<Arc<Dispatcher>>,
    TurnoverId(id): TurnoverId,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut width = 320;
    for (k, v) in &q {
        match (k.as_str(), v.parse::<u32>()) {
            ("width", Ok(w)) if (64..=1024).contains(&w) => width = w,
            ("width", _) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("width {v:?} is not a number in 64..=1024"),
                )
            }
            (other, _) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("unknown query parameter {other:?} (width)"),
                )
            }
        }
    }
    match d.catalog().turnover(&id).await {
        Ok(None) => return not_found(&id),
        Err(e) => return catalog_error(e),
        Ok(Some(_)) => {}
    }
    let outputs = match d.catalog().output_keys_by_shot(&id).await {
        Ok(o) => o,
        Err(e) => return catalog_error(e),
    };
    let plates = crate::pictures::first_plates(&outputs);
    match crate::pictures::contact_sheet(d.store(), &plates, width).await {
        Ok(Some(sheet)) => {
            for (shot, why) in &sheet.unreadable {
                tracing::warn!(turnover_id = %id, %shot, reason = %why, "plate left off the contact sheet");
            }
            let mut r = jpeg(sheet.jpeg);
            if let Ok(v) = sheet.shots.join(",").parse() {
                r.headers_mut().insert("x-platefarm-shots", v);
            }
            r
        }
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            format!("turnover {id:?} has no readable plate yet"),
        ),
        Err(crate::pictures::SheetError::Store(e)) if e.is_retryable() => error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the store is unavailable, try again: {e}"),
        ),
        Err(e) => {
            tracing::error!(turnover_id = %id, error = %e, "contact sheet");
            error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
        }
    }
}

async fn list(
    State(d): State<Arc<Dispatcher>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut filter = TurnoverFilter {
        limit: 200,
        ..TurnoverFilter::default()
    };
    for (k, v) in &q {
        match k.as_str() {
            "production" => match platefarm_core::validate::plain_text(v) {
                Ok(()) => filter.production = Some(v.clone()),
                Err(reason) => {
                    return error(StatusCode::BAD_REQUEST, format!("production {v:?} {reason}"))
                }
            },
            "state" => match v.parse::<TurnoverState>() {
                Ok(s) => filter.state = Some(s),
                Err(_) => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        format!("state {v:?} is not one of running, completed, completed_with_failures, failed, cancelled"),
                    )
                }
            },
            "limit" => match v.parse::<u32>() {
                Ok(n) if (1..=1000).contains(&n) => filter.limit = n,
                _ => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        format!("limit {v:?} is not a number in 1..=1000"),
                    )
                }
            },
            other => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("unknown query parameter {other:?} (production, state, limit)"),
                )
            }
        }
    }
    match d.catalog().list_turnovers(&filter).await {
        Ok(list) => Json(list).into_response(),
        Err(e) => catalog_error(e),
    }
}

/// Everything `GET /v1/turnovers/{id}` shows.
pub async fn detail(d: &Dispatcher, id: &str) -> Result<Option<Value>, CatalogError> {
    let cat = d.catalog();
    let Some(summary) = cat.turnover(id).await? else {
        return Ok(None);
    };
    let shots = cat.shots(id).await?;
    let failures: Vec<Value> = cat
        .chunks(id)
        .await?
        .into_iter()
        .filter(|c| c.state == ChunkState::Failed)
        .map(|c| {
            json!({"chunk_id": c.chunk_id, "shot": c.shot, "frame_start": c.frame_start,
                   "frame_end": c.frame_end, "reason": c.detail, "attempts": c.attempts,
                   "worker_id": c.worker_id})
        })
        .collect();
    let mut outputs = cat.output_keys_by_shot(id).await?;
    for s in &shots {
        outputs.entry(s.shot.clone()).or_default();
    }
    let mut v = serde_json::to_value(&summary).expect("summaries serialise");
    v["shots"] = serde_json::to_value(&shots).expect("shots serialise");
    v["failures"] = Value::Array(failures);
    v["outputs"] = serde_json::to_value(outputs).expect("outputs serialise");
    Ok(Some(v))
}

async fn status(State(d): State<Arc<Dispatcher>>, TurnoverId(id): TurnoverId) -> Response {
    match detail(&d, &id).await {
        Ok(Some(v)) => Json(v).into_response(),
        Ok(None) => not_found(&id),
        Err(e) => catalog_error(e),
    }
}

async fn chunks(State(d): State<Arc<Dispatcher>>, TurnoverId(id): TurnoverId) -> Response {
    match d.catalog().turnover(&id).await {
        Ok(None) => return not_found(&id),
        Err(e) => return catalog_error(e),
        Ok(Some(_)) => {}
    }
    match d.catalog().chunks(&id).await {
        Ok(rows) => Json(rows).into_response(),
        Err(e) => catalog_error(e),
    }
}

async fn cancel(State(d): State<Arc<Dispatcher>>, TurnoverId(id): TurnoverId) -> Response {
    match d.cancel(&id).await {
        Ok(Some(n)) => {
            Json(json!({"turnover_id": id, "state": "cancelled", "chunks_cancelled": n}))
                .into_response()
        }
        Ok(None) => not_found(&id),
        Err(e) => catalog_error(e),
    }
}

async fn retry_failed(State(d): State<Arc<Dispatcher>>, TurnoverId(id): TurnoverId) -> Response {
    match d.retry_failed(&id).await {
        Ok(Some(n)) => Json(json!({"turnover_id": id, "chunks_retried": n})).into_response(),
        Ok(None) => not_found(&id),
        Err(e) => catalog_error(e),
    }
}

/// Server-sent events: a `snapshot` (the turnover's summary) first, then one `progress` event
/// per change of this turnover; the stream ends after the turnover's final state.
async fn events(State(d): State<Arc<Dispatcher>>, TurnoverId(id): TurnoverId) -> Response {
    use futures_util::StreamExt;
    let rx = d.subscribe();
    let summary = match d.catalog().turnover(&id).await {
        Ok(Some(s)) => s,
        Ok(None) => return not_found(&id),
        Err(e) => return catalog_error(e),
    };
    let snapshot = |s: &platefarm_catalog::TurnoverSummary| {
        Event::default()
            .event("snapshot")
            .json_data(s)
            .expect("summaries serialise")
    };
    let first = snapshot(&summary);
    let done = summary.state.is_terminal();
    let stream = futures_util::stream::unfold(
        (Some(first), done, rx, d.clone(), id),
        move |(first, done, mut rx, d, id)| async move {
            if let Some(ev) = first {
                return Some((
                    Ok::<_, std::convert::Infallible>(ev),
                    (None, done, rx, d, id),
                ));
            }
            if done {
                return None;
            }
            loop {
                match rx.recv().await {
                    Ok(p) if p.turnover_id() == id => {
                        let last =
                            matches!(&p, Progress::Turnover { state, .. } if state.is_terminal());
                        let ev = Event::default()
                            .event("progress")
                            .json_data(&p)
                            .expect("progress serialises");
                        return Some((Ok(ev), (None, last, rx, d, id)));
                    }
                    Ok(_) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        // Missed changes: send the current state instead.
                        let s = d.catalog().turnover(&id).await.ok().flatten()?;
                        let last = s.state.is_terminal();
                        return Some((Ok(snapshot(&s)), (None, last, rx, d, id)));
                    }
                    Err(_) => return None,
                }
            }
        },
    )
    .boxed();
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}
