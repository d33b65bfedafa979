//! The observer's HTTP server (axum, on the tokio runtime that waits for main): the page,
//! the JSON API and the metrics. A kill needs the token the VM was started with.
//!
//! On a loopback address, requests must name it in their `Host` header (`localhost:PORT`,
//! `127.0.0.1:PORT`, `[::1]:PORT`): a web page the operator visits cannot rebind a DNS
//! name of its own to 127.0.0.1 and read the API. Kills need an `Authorization` header,
//! which no cross-site form can send and no script can without a CORS preflight, which is
//! not answered.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::View;
use crate::process::EndReason;
use crate::runtime::Runtime;

/// The page: HTML, CSS and JS in one file, compiled in.
const PAGE: &str = include_str!("page.html");

/// Where the observer listens, and the token that allows kills.
#[derive(Debug, Clone)]
pub(crate) struct ObserverConfig {
    pub(crate) addr: SocketAddr,
    /// `None`: every kill is refused.
    pub(crate) token: Option<String>,
}

struct Observer {
    runtime: Arc<Runtime>,
    token: Option<String>,
    /// The `Host` headers taken (`None`: any, on an address that is not loopback).
    hosts: Option<Vec<String>>,
}

/// Binds `config.addr` and serves the observer on the current tokio runtime until it
/// stops; returns the address it listens on.
///
/// # Errors
/// The address cannot be bound.
pub(crate) async fn serve(
    runtime: Arc<Runtime>,
    config: ObserverConfig,
) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    // From now on receives note their last messages (see `messaging::mailbox::Recent`).
    crate::messaging::mailbox::OBSERVED.store(true, std::sync::atomic::Ordering::Relaxed);
    let addr = listener.local_addr()?;
    let hosts = addr.ip().is_loopback().then(|| {
        let port = addr.port();
        vec![
            format!("localhost:{port}"),
            format!("127.0.0.1:{port}"),
            format!("[::1]:{port}"),
            addr.to_string(),
        ]
    });
    let observer = Arc::new(Observer {
        runtime,
        token: config.token,
        hosts,
    });
    let app = Router::new()
        .route("/", get(page))
        .route("/api/processes", get(processes))
        .route("/api/processes/{id}", get(process))
        .route("/api/processes/{id}/kill", post(kill))
        .route("/api/tree", get(tree))
        .route("/metrics", get(metrics))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&observer),
            check_host,
        ))
        .with_state(observer);
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(target: "lunatic::observer", "the observer stopped: {error}");
        }
    });
    Ok(addr)
}

/// Refuses a request whose `Host` the observer does not answer to (see the module docs).
async fn check_host(
    State(observer): State<Arc<Observer>>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok());
    let allowed = match (&observer.hosts, host) {
        (None, _) => true,
        (Some(hosts), Some(host)) => hosts.iter().any(|allowed| allowed == host),
        (Some(_), None) => false,
    };
    if allowed {
        next.run(request).await
    } else {
        let error = "the observer answers only to its own address in the Host header";
        (StatusCode::FORBIDDEN, Json(ErrorBody { error })).into_response()
    }
}

async fn page() -> Response {
    let mut response = PAGE.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // Nothing is loaded from elsewhere, and nothing may be.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
             connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

async fn processes(State(observer): State<Arc<Observer>>) -> Response {
    Json(observer.view().processes()).into_response()
}

async fn process(State(observer): State<Arc<Observer>>, Path(id): Path<String>) -> Response {
    match id.parse().ok().and_then(|id| observer.view().detail(id)) {
        Some(detail) => Json(detail).into_response(),
        None => not_alive(&id),
    }
}

async fn tree(State(observer): State<Arc<Observer>>) -> Response {
    Json(observer.view().trees()).into_response()
}

async fn metrics(State(observer): State<Arc<Observer>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        super::metrics(&observer.runtime),
    )
        .into_response()
}

async fn kill(
    State(observer): State<Arc<Observer>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let allowed = match (&observer.token, given) {
        (Some(token), Some(given)) => same_secret(token.as_bytes(), given.as_bytes()),
        _ => false,
    };
    if !allowed {
        let error = if observer.token.is_some() {
            "wrong or missing token"
        } else {
            "kills are off: start lunatic with --observe-token"
        };
        return (StatusCode::FORBIDDEN, Json(ErrorBody { error })).into_response();
    }
    match id
        .parse()
        .ok()
        .and_then(|id| observer.runtime.processes().get(id))
    {
        Some(process) => {
            tracing::info!(target: "lunatic::observer", "process {id} killed from the observer");
            process.mailbox().kill(EndReason::Killed);
            Json(Killed { killed: id }).into_response()
        }
        None => not_alive(&id),
    }
}

#[derive(serde::Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

#[derive(serde::Serialize)]
struct Killed {
    killed: String,
}

fn not_alive(id: &str) -> Response {
    let error = format!("process {id} is not alive");
    (StatusCode::NOT_FOUND, Json(ErrorBody { error: &error })).into_response()
}

/// Compares two secrets in time that depends on neither (their digests are compared whole).
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    use sha2::Digest as _;
    let (a, b) = (sha2::Sha256::digest(a), sha2::Sha256::digest(b));
    a.iter().zip(&b).fold(0, |diff, (x, y)| diff | (x ^ y)) == 0
}

impl Observer {
    fn view(&self) -> View<'_> {
        View {
            runtime: &self.runtime,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_compare_whole() {
        assert!(super::same_secret(b"abc", b"abc"));
        assert!(!super::same_secret(b"abc", b"abd"));
        assert!(!super::same_secret(b"abc", b"ab"));
        assert!(!super::same_secret(b"", b"a"));
    }
}
