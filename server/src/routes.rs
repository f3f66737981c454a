//! The HTTP routes, on axum: each call runs on tokio's blocking threads, since a guest call
//! (and a wait for an instance) blocks for as long as it runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::config::Config;
use crate::error::ApiError;
use crate::host::Request;
use crate::metrics::{self, Metrics};
use crate::plugins::Plugins;

#[derive(Clone)]
struct App {
    plugins: Arc<Plugins>,
    metrics: Arc<Metrics>,
    next_id: Arc<AtomicU64>,
}

/// The server's routes over `plugins`:
///
/// - `POST /plugins/{plugin}/{export}`: the call, the body its input.
/// - `GET /plugins`: the plugins, their interfaces and the refused files, as JSON.
/// - `GET /metrics`: the metrics, as OpenMetrics text.
pub fn router(plugins: Arc<Plugins>, config: &Config) -> Router {
    let app = App {
        metrics: Arc::new(Metrics::new(Arc::clone(&plugins))),
        plugins,
        next_id: Arc::new(AtomicU64::new(1)),
    };
    Router::new()
        .route("/plugins", get(list))
        .route("/plugins/{plugin}/{export}", post(call))
        .route("/metrics", get(scrape))
        .layer(DefaultBodyLimit::max(config.max_body))
        .with_state(app)
}

async fn call(
    State(app): State<App>,
    Path((plugin, export)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let id = match headers.get("x-request-id").and_then(|id| id.to_str().ok()) {
        Some(id) if !id.is_empty() && id.len() <= 128 => id.to_owned(),
        _ => format!("{:016x}", app.next_id.fetch_add(1, Ordering::Relaxed)),
    };
    let request = Request {
        id: id.clone(),
        salutation: headers
            .get("x-salutation")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
    };
    let outcome = match body {
        Ok(body) => {
            let plugins = Arc::clone(&app.plugins);
            let (plugin, export) = (plugin.clone(), export.clone());
            tokio::task::spawn_blocking(move || plugins.call(&plugin, &export, &body, request))
                .await
                .unwrap_or_else(|error| {
                    Err(ApiError::internal(format!("the call's task: {error}")))
                })
        }
        Err(rejection) => Err(ApiError::new(
            rejection.status(),
            "input",
            rejection.body_text(),
        )),
    };
    // Labels only for what is served: a client cannot grow the metrics with made-up names.
    let known = app
        .plugins
        .get(&plugin)
        .is_some_and(|served| served.interface.export(&export).is_some());
    let (label_plugin, label_export) = if known {
        (plugin.as_str(), export.as_str())
    } else {
        ("-", "-")
    };
    let mut response = match outcome {
        Ok(answer) => ([(header::CONTENT_TYPE, answer.content_type)], answer.body).into_response(),
        Err(error) => {
            if error.status.is_server_error() {
                tracing::warn!(%plugin, %export, request = %id, status = error.status.as_u16(), kind = error.kind, "{}", error.message);
            }
            error.into_response()
        }
    };
    app.metrics
        .count(label_plugin, label_export, response.status().as_u16());
    if let Ok(id) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", id);
    }
    response
}

async fn list(State(app): State<App>) -> Json<Value> {
    let plugins: Vec<Value> = app
        .plugins
        .served()
        .map(|served| {
            let functions = |functions: &[guestmem_host::Function]| -> Vec<Value> {
                functions
                    .iter()
                    .map(|function| {
                        json!({
                            "name": function.name,
                            "module": function.module,
                            "args": function.args.iter().map(|arg| json!({
                                "name": arg.name,
                                "kind": arg.kind.to_string(),
                                "owned": arg.owned,
                            })).collect::<Vec<_>>(),
                            "result": function.result.to_string(),
                            "fallible": function.fallible,
                            "describe": function.to_string(),
                        })
                    })
                    .collect()
            };
            json!({
                "name": served.name,
                "file": served.file,
                "exports": functions(&served.interface.exports),
                "imports": functions(&served.interface.imports),
            })
        })
        .collect();
    Json(json!({ "plugins": plugins, "refused": app.plugins.refused() }))
}

async fn scrape(State(app): State<App>) -> Response {
    match app.metrics.render() {
        Ok(text) => ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the metrics could not be written",
        )
            .into_response(),
    }
}
