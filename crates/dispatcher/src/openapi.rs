//! The OpenAPI 3.0 document of the HTTP API, served at `/v1/openapi.json` and kept in
//! `docs/openapi.json` (a test checks they are the same). The turnover request schema is
//! `docs/turnover.schema.json`'s; here it is referenced as an object so tools can fuzz it.

use serde_json::{json, Value};

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn id_param() -> Value {
    json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}, "description": "Turnover id"})
}

pub fn document() -> Value {
    let auth = json!([{"bearer": []}]);
    let common = |ok: Value| {
        let mut r = json!({
            "401": error_response("Missing or wrong API token"),
            "404": error_response("No such turnover"),
            "503": error_response("The catalog is unavailable; try again"),
        });
        r["200"] = ok;
        r
    };
    let mut doc = json!({
        "openapi": "3.0.3",
        "info": {
            "title": "platefarm API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Submit turnovers to the platefarm render farm and follow them. See docs/api.md.",
            "license": {"name": "Apache-2.0"}
        },
        "servers": [{"url": "/"}],
        "security": auth,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {
                    "error": {"type": "string"},
                    "problems": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}}}},
                "Problem": {"type": "object", "required": ["path", "reason"], "properties": {
                    "path": {"type": "string", "description": "JSON path of the field, e.g. $.shots[0].frame_range.end"},
                    "reason": {"type": "string"}}},
                "Turnover": {"type": "object", "description": "A turnover request; docs/turnover.schema.json has every field",
                    "required": ["production", "shots"],
                    "properties": {
                        "turnover_id": {"type": "string"},
                        "production": {"type": "string"},
                        "priority": {"type": "integer", "minimum": 0, "maximum": 100},
                        "deadline": {"type": "string", "format": "date-time"},
                        "shots": {"type": "array", "items": {"type": "object"}}}},
                "Receipt": {"type": "object", "required": ["turnover_id", "n_shots", "n_chunks", "n_frames", "existing"],
                    "properties": {
                        "turnover_id": {"type": "string"}, "n_shots": {"type": "integer"},
                        "n_chunks": {"type": "integer"}, "n_frames": {"type": "integer"},
                        "existing": {"type": "boolean"}}},
                "ChunkCounts": {"type": "object", "properties": {
                    "planned": {"type": "integer"}, "published": {"type": "integer"}, "running": {"type": "integer"},
                    "done": {"type": "integer"}, "failed": {"type": "integer"}, "cancelled": {"type": "integer"}}},
                "TurnoverState": {"type": "string", "enum": ["running", "completed", "completed_with_failures", "failed", "cancelled"]},
                "Summary": {"type": "object", "required": ["turnover_id", "production", "state", "chunks"], "properties": {
                    "turnover_id": {"type": "string"}, "production": {"type": "string"},
                    "priority": {"type": "integer"}, "deadline": {"type": "string", "nullable": true},
                    "state": {"$ref": "#/components/schemas/TurnoverState"},
                    "submitted_at": {"type": "string"}, "finished_at": {"type": "string", "nullable": true},
                    "chunks": {"$ref": "#/components/schemas/ChunkCounts"},
                    "frames_done": {"type": "integer"}, "frames_total": {"type": "integer"}}},
                "Detail": {"allOf": [{"$ref": "#/components/schemas/Summary"}, {"type": "object", "properties": {
                    "shots": {"type": "array", "items": {"type": "object"}},
                    "failures": {"type": "array", "items": {"type": "object", "properties": {
                        "chunk_id": {"type": "string"}, "shot": {"type": "string"}, "reason": {"type": "string", "nullable": true}}}},
                    "outputs": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}}}]}
            }
        },
        "paths": {
            "/v1/turnovers": {
                "post": {
                    "summary": "Submit a turnover",
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Turnover"}}}},
                    "responses": {
                        "202": {"description": "Accepted", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Receipt"}}}},
                        "200": {"description": "The same request was submitted before", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Receipt"}}}},
                        "400": error_response("Malformed JSON"),
                        "401": error_response("Missing or wrong API token"),
                        "409": error_response("The turnover_id exists with a different request"),
                        "413": error_response("Body above the limit"),
                        "422": error_response("Every field error, with its JSON path"),
                        "503": error_response("The catalog is unavailable; try again")
                    }
                },
                "get": {
                    "summary": "List turnovers, most recent first",
                    "parameters": [
                        {"name": "production", "in": "query", "schema": {"type": "string"}},
                        {"name": "state", "in": "query", "schema": {"$ref": "#/components/schemas/TurnoverState"}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}
                    ],
                    "responses": {
                        "200": {"description": "Turnovers", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Summary"}}}}},
                        "400": error_response("A bad query parameter"),
                        "401": error_response("Missing or wrong API token"),
                        "503": error_response("The catalog is unavailable; try again")
                    }
                }
            },
            "/v1/turnovers/{id}": {"get": {
                "summary": "State, per-shot progress, failures with reasons, output keys",
                "parameters": [id_param()],
                "responses": common(json!({"description": "The turnover", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Detail"}}}}))
            }},
            "/v1/turnovers/{id}/chunks": {"get": {
                "summary": "Every chunk with its state, attempts, worker and reason",
                "parameters": [id_param()],
                "responses": common(json!({"description": "Chunks", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}))
            }},
            "/v1/turnovers/{id}/cancel": {"post": {
                "summary": "Cancel every chunk not final yet",
                "parameters": [id_param()],
                "responses": common(json!({"description": "Cancelled", "content": {"application/json": {"schema": {"type": "object"}}}}))
            }},
            "/v1/turnovers/{id}/retry-failed": {"post": {
                "summary": "Plan every failed chunk again",
                "parameters": [id_param()],
                "responses": common(json!({"description": "Retried", "content": {"application/json": {"schema": {"type": "object"}}}}))
            }},
            "/v1/turnovers/{id}/events": {"get": {
                "summary": "Server-sent events: a snapshot, then progress until the turnover is final",
                "parameters": [id_param()],
                "responses": common(json!({"description": "An event stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}}))
            }},
            "/v1/ingests": {"post": {
                "summary": "Ingest a prefix of the farm's store: verify its ASC MHL history, record every clip, write thumbnails",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["location"], "additionalProperties": false, "properties": {
                        "location": {"type": "string", "example": "day1/"},
                        "thumbnails": {"type": "boolean", "default": true}}}}}},
                "responses": {
                    "202": {"description": "Handed to the workers, one job per clip; follow it at /v1/ingests/{id}", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["ingest_id", "location", "clips"], "properties": {
                            "ingest_id": {"type": "string"}, "location": {"type": "string"},
                            "clips": {"type": "integer"}, "ignored": {"type": "integer"},
                            "mhl": {"type": "object", "nullable": true}}}}}},
                    "400": error_response("Malformed JSON or an unknown field"),
                    "401": error_response("Missing or wrong API token"),
                    "413": error_response("Body above the limit"),
                    "422": error_response("A location outside the store, one with no footage, or an ASC MHL mismatch (names the files)"),
                    "503": error_response("The store, the broker or the catalog is unavailable; try again")
                }
            }},
            "/v1/clips": {"get": {
                "summary": "Search ingested clips; with timecode, which clip and frame hold it",
                "parameters": [
                    {"name": "reel", "in": "query", "schema": {"type": "string"}},
                    {"name": "camera", "in": "query", "schema": {"type": "string"}},
                    {"name": "timecode", "in": "query", "schema": {"type": "string", "example": "13:45:10:07"}},
                    {"name": "text", "in": "query", "schema": {"type": "string"}},
                    {"name": "location", "in": "query", "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}
                ],
                "responses": {
                    "200": {"description": "Clip records (docs/ingest.md) and, for a timecode, the first match", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["clips", "match"], "properties": {
                            "clips": {"type": "array", "items": {"type": "object"}},
                            "match": {"type": "object", "nullable": true, "properties": {
                                "clip": {"type": "string"}, "key": {"type": "string"}, "frame": {"type": "integer"},
                                "file": {"type": "string"}, "status": {"type": "string"}}}}}}}},
                    "400": error_response("A bad query parameter (names it)"),
                    "401": error_response("Missing or wrong API token"),
                    "503": error_response("The catalog is unavailable; try again")
                }
            }},
            "/v1/openapi.json": {"get": {
                "summary": "This document", "security": [],
                "responses": {"200": {"description": "OpenAPI 3.0", "content": {"application/json": {"schema": {"type": "object"}}}}}
            }}
        }
    });
    // More paths (one json! of every path exceeds the macro recursion limit).
    doc["paths"]["/v1/turnovers/{id}/contact-sheet"] = json!({"get": {
        "summary": "The first plate of each shot through the ACES 2.0 SDR view, as one JPEG",
        "parameters": [id_param(),
            {"name": "width", "in": "query", "schema": {"type": "integer", "minimum": 64, "maximum": 1024, "default": 320}, "description": "Widest tile"}],
        "responses": {
            "200": {"description": "The contact sheet; the shots shown are in X-Platefarm-Shots",
                "headers": {"X-Platefarm-Shots": {"schema": {"type": "string"}, "description": "Shot names, comma-separated, in tile order"}},
                "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}},
            "400": error_response("A bad query parameter"),
            "401": error_response("Missing or wrong API token"),
            "404": error_response("No such turnover, or no readable plate yet"),
            "503": error_response("The catalog or the store is unavailable; try again")
        }
    }});
    doc["paths"]["/v1/ingests/{id}"] = json!({"get": {
        "summary": "An ingest: state, clips done and failed, frames, bad frames with reasons",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}, "description": "Ingest id"}],
        "responses": {
            "200": {"description": "The ingest", "content": {"application/json": {"schema": {
                "type": "object", "required": ["ingest_id", "state", "clips_total", "clips_done", "clips_failed"], "properties": {
                    "ingest_id": {"type": "string"}, "location": {"type": "string"},
                    "state": {"type": "string", "enum": ["running", "completed", "completed_with_failures"]},
                    "created_at": {"type": "string"}, "finished_at": {"type": "string", "nullable": true},
                    "clips_total": {"type": "integer"}, "clips_done": {"type": "integer"}, "clips_failed": {"type": "integer"},
                    "frames": {"type": "integer"},
                    "bad_frames": {"type": "array", "items": {"type": "object"}},
                    "failures": {"type": "array", "items": {"type": "object"}},
                    "thumbnail_errors": {"type": "array", "items": {"type": "object"}},
                    "ignored": {"type": "integer"},
                    "mhl": {"type": "object", "nullable": true}}}}}},
            "401": error_response("Missing or wrong API token"),
            "404": error_response("No such ingest"),
            "503": error_response("The catalog is unavailable; try again")
        }
    }});
    doc["paths"]["/v1/clips/thumbnail"] = json!({"get": {
        "summary": "A clip's thumbnail (ACES 2.0 SDR view), from beside its footage in the farm's store",
        "parameters": [
            {"name": "location", "in": "query", "required": true, "schema": {"type": "string"}, "description": "The record's location"},
            {"name": "key", "in": "query", "required": true, "schema": {"type": "string"}, "description": "The record's key"}
        ],
        "responses": {
            "200": {"description": "JPEG", "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}},
            "400": error_response("A missing or bad query parameter"),
            "401": error_response("Missing or wrong API token"),
            "404": error_response("No such clip, or no thumbnail (names why)"),
            "503": error_response("The catalog or the store is unavailable; try again")
        }
    }});
    doc
}
