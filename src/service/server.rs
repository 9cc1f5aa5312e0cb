//! The HTTP server around the routes: bounded in connections and in time, so that slow or idle
//! clients cannot hold the service.
//!
//! - at most [`Limits::max_connections`] connections at once; past that a new one is closed at
//!   once;
//! - a request's head must arrive within [`Limits::header_timeout`], and an idle kept-alive
//!   connection is closed after the same time;
//! - a request must be answered within [`Limits::request_timeout`], reading its body included (a
//!   body sent a byte a second gets 408). A streaming answer (the live events) counts as answered
//!   when its head is sent, so it is not cut off.
//!
//! On shutdown the listener closes, every connection finishes the request it is serving and then
//! closes, and after [`DRAIN_TIMEOUT`] those still open are dropped.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tower_service::Service;

/// How much the server takes (see the module's documentation).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub request_timeout: Duration,
}

impl Limits {
    /// From the configuration.
    pub fn of(config: &super::config::Config) -> Limits {
        Limits {
            max_connections: config.max_connections,
            header_timeout: Duration::from_secs(config.header_timeout_secs),
            request_timeout: Duration::from_secs(config.request_timeout_secs),
        }
    }
}

/// Time open connections get to finish after a shutdown began.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves `app` on `listener` until `shutdown` resolves, then drains the connections.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            // Finished connections are reaped as they end.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(
                max = limits.max_connections,
                "connection refused: the most are open already"
            );
            drop(stream);
            continue;
        };
        let app = app.clone();
        let mut stop = stop_rx.clone();
        connections.spawn(async move {
            let _slot = slot;
            let timeout = limits.request_timeout;
            let service =
                hyper::service::service_fn(move |req| handle(app.clone(), peer, timeout, req));
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = stop.wait_for(|s| *s) => conn.as_mut().graceful_shutdown(),
            }
            let _ = conn.await;
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            "connections still open after the shutdown's grace are closed"
        );
        connections.shutdown().await;
    }
    Ok(())
}

async fn handle(
    mut app: Router,
    peer: SocketAddr,
    timeout: Duration,
    mut req: Request<Incoming>,
) -> Result<Response, Infallible> {
    req.extensions_mut().insert(ConnectInfo(peer));
    match tokio::time::timeout(timeout, app.call(req)).await {
        Ok(answered) => answered,
        Err(_) => Ok((
            StatusCode::REQUEST_TIMEOUT,
            "the request took too long to arrive or to answer",
        )
            .into_response()),
    }
}
