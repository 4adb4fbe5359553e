//! The read-only HTTP endpoint of `ringwatch daemon`, over the published
//! [`Snapshot`] (STYLE.md 7.4): it never touches the store, the scheduler or
//! the probes; every request reads the newest `Arc<Snapshot>` from a
//! `tokio::sync::watch` channel and renders it.
//!
//! | path | answer |
//! |---|---|
//! | `GET /healthz` | `200 ok` (text), never needs the token |
//! | `GET /metrics` | Prometheus text format 0.0.4 ([`render_metrics`]) |
//! | `GET /api/numbers` | JSON array of [`NumberView`](crate::daemon::snapshot::NumberView)s: `[{"number","label","report"}]`, `report` being the `history --json` object |
//! | `GET /api/numbers/{e164}` | the `history --json` object (`NumberReport`) of one owned number; `+1…`, `%2B1…` and separators (`+1-202-…`) accepted; `400 {"error"}` when not an E.164 number, `404 {"error"}` when not owned |
//! | `GET /` | the self-contained HTML dashboard ([`render_dashboard`]) |
//! | anything else | `404` (JSON `{"error"}` under `/api/`); a known path with another method: `405` |
//!
//! With a token configured, everything but `/healthz` (including unknown
//! paths, so they do not reveal what exists) requires
//! `Authorization: Bearer <token>` or, for browsers, `?token=<token>`;
//! otherwise `401` with `WWW-Authenticate: Bearer`. Tokens are compared in
//! constant time (SHA-256 of both, then a branch-free compare).
//!
//! Every response carries `Cache-Control: no-store`,
//! `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`
//! (a `?token=` must not leak through a `Referer`); the dashboard also a
//! strict `Content-Security-Policy`. Oversized or malformed requests are
//! answered by hyper (`431`, `400`); no request can panic a handler.

mod dashboard;
mod metrics;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::future::{Future, IntoFuture as _};
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest as _, Sha256};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::E164;
use crate::daemon::snapshot::Snapshot;

pub use dashboard::{Esc, REFRESH_SECONDS, csp, render_dashboard};
pub use metrics::{CONTENT_TYPE as METRICS_CONTENT_TYPE, render_metrics};

/// After the shutdown signal, connections still open (a scrape in progress,
/// a browser's keep-alive) get this long to finish before `serve` returns.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// How the endpoint behaves (from `[http]`; the caller resolves `token_env`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpOptions {
    /// Bearer token required for everything but `/healthz`, already read from
    /// the environment variable named by `[http] token_env`. `None`: open.
    /// An empty token is refused by [`serve`] (it would protect nothing).
    pub token: Option<String>,
    /// Export the per-(number, carrier) state gauge, whose `number` label is
    /// a phone number (`[http] number_labels`).
    pub number_labels: bool,
}

/// Shared by every handler.
#[derive(Clone)]
struct AppState {
    snapshots: watch::Receiver<Arc<Snapshot>>,
    /// SHA-256 of the token, when one is required.
    token_digest: Option<[u8; 32]>,
    number_labels: bool,
}

impl AppState {
    fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(&self.snapshots.borrow())
    }
}

/// Serve the endpoint on `listener` until `shutdown` completes; then stop
/// accepting, let open connections finish for up to [`SHUTDOWN_GRACE`], and
/// return `Ok(())`.
///
/// # Errors
/// `InvalidInput` when `opts.token` is `Some("")`. Accept errors are
/// retried by the server loop and never end it.
pub async fn serve(
    listener: TcpListener,
    snapshots: watch::Receiver<Arc<Snapshot>>,
    opts: HttpOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let token_digest = match opts.token.as_deref() {
        Some("") => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the HTTP bearer token is empty; unset the variable named by [http] token_env or give it a value",
            ));
        }
        Some(t) => Some(digest(t)),
        None => None,
    };
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, auth = token_digest.is_some(), "http endpoint listening");
    }
    let app = router(AppState {
        snapshots,
        token_digest,
        number_labels: opts.number_labels,
    });

    let (fired_tx, mut fired_rx) = watch::channel(false);
    let signal = async move {
        shutdown.await;
        let _ = fired_tx.send(true);
    };
    let server = axum::serve(listener, app)
        .with_graceful_shutdown(signal)
        .into_future();
    let grace = async move {
        if fired_rx.wait_for(|fired| *fired).await.is_err() {
            // The signal future was dropped without firing: no deadline.
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        r = server => r,
        () = grace => {
            tracing::debug!("http connections still open after the shutdown grace; leaving them");
            Ok(())
        }
    }
}

fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(dashboard_page))
        .route("/metrics", get(metrics_page))
        .route("/api/numbers", get(numbers_json))
        .route("/api/numbers/{e164}", get(number_json))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), require_token))
        .route("/healthz", get(healthz))
        .layer(middleware::map_response(common_headers))
        .with_state(state)
}

async fn common_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

fn digest(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

/// Equal without an early exit (the inputs are digests, so their length
/// and content reveal nothing about the token).
fn digests_equal(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The token the request presents: `Authorization: Bearer <token>` (scheme
/// case-insensitive), else the `token` query parameter.
fn presented_token(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        let v = v.to_str().ok()?.trim();
        let (scheme, rest) = v.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| rest.trim().to_owned());
    }
    let Query(q) = Query::<HashMap<String, String>>::try_from_uri(uri).ok()?;
    q.get("token").cloned()
}

async fn require_token(State(st): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(expected) = &st.token_digest {
        let ok = presented_token(req.headers(), req.uri())
            .is_some_and(|t| digests_equal(&digest(&t), expected));
        if !ok {
            return (
                StatusCode::UNAUTHORIZED,
                [
                    (header::WWW_AUTHENTICATE, "Bearer realm=\"ringwatch\""),
                    (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                ],
                "unauthorized: send `Authorization: Bearer <token>` (or `?token=<token>` in a browser)\n",
            )
                .into_response();
        }
    }
    next.run(req).await
}

async fn healthz() -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "ok").into_response()
}

async fn metrics_page(State(st): State<AppState>) -> Response {
    let body = render_metrics(&st.snapshot(), st.number_labels);
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], body).into_response()
}

async fn dashboard_page(State(st): State<AppState>) -> Response {
    let body = render_dashboard(&st.snapshot());
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, csp()),
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
        body,
    )
        .into_response()
}

fn json_response(status: StatusCode, value: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => (status, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("cannot serialize: {e}"),
        ),
    }
}

fn json_error(status: StatusCode, msg: &str) -> Response {
    let body = serde_json::json!({ "error": msg }).to_string();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn numbers_json(State(st): State<AppState>) -> Response {
    json_response(StatusCode::OK, &st.snapshot().numbers)
}

async fn number_json(
    State(st): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let raw = match path {
        Ok(Path(raw)) => raw,
        Err(e) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                &format!("bad number in the path: {e}"),
            );
        }
    };
    let number = match E164::parse(&raw) {
        Ok(n) => n,
        Err(e) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                &format!("not an E.164 number: {e}"),
            );
        }
    };
    let snap = st.snapshot();
    match snap.number(number.as_str()) {
        Some(view) => json_response(StatusCode::OK, &view.report),
        None => json_error(
            StatusCode::NOT_FOUND,
            &format!("{number} is not an owned number"),
        ),
    }
}

async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        json_error(StatusCode::NOT_FOUND, "not found")
    } else {
        (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "not found\n",
        )
            .into_response()
    }
}
