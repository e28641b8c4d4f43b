//! The accept loop: HTTP/1 connections with a cap on their number and a header-read timeout
//! (which also bounds how long an idle keep-alive connection is kept), and graceful shutdown.
//!
//! `axum::serve` has neither limit, so a flood of half-open or slow-header connections would
//! hold memory without bound.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// Connection limits of [`serve_with`].
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Most open connections (default 1024); further ones wait in the kernel's accept backlog.
    pub max_connections: usize,
    /// Time a client has to send a request's headers, counted from when the connection is
    /// ready for the next request (default 10 s), so idle keep-alive connections close too.
    pub header_read_timeout: Duration,
    /// Largest request head (request line and headers), in bytes (default 16 KiB).
    pub max_header_bytes: usize,
}

impl Default for ServeOptions {
    fn default() -> ServeOptions {
        ServeOptions { max_connections: 1024, header_read_timeout: Duration::from_secs(10), max_header_bytes: 16 << 10 }
    }
}

/// [`serve_with`] with the default [`ServeOptions`].
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, router, &ServeOptions::default(), shutdown).await
}

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting connections,
/// closes idle ones and waits for the requests in flight (each bounded by its subnet's deadline).
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    options: &ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(address) = listener.local_addr() {
        tracing::info!(%address, "miner listening");
    }
    let connections = Arc::new(Semaphore::new(options.max_connections.max(1)));
    // Sending on `stop` asks every connection to finish; `done` closes when the last one has.
    let (stop, stopping) = watch::channel(false);
    let (done, all_done) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&connections).acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(%error, "failed to accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(options.header_read_timeout)
            .max_buf_size(options.max_header_bytes.max(8192));
        let service = TowerToHyperService::new(router.clone());
        let mut stopping = stopping.clone();
        let all_done = all_done.clone();
        tokio::spawn(async move {
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            let mut connection = pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::trace!(%peer, %error, "connection ended with an error");
                    }
                }
                () = async { drop(stopping.wait_for(|stop| *stop).await) } => {
                    connection.as_mut().graceful_shutdown();
                    if let Err(error) = connection.await {
                        tracing::trace!(%peer, %error, "connection ended with an error");
                    }
                }
            }
            drop(all_done);
            drop(permit);
        });
    }
    drop(listener);
    tracing::info!("miner shutting down: waiting for requests in flight");
    let _ = stop.send(true);
    drop(all_done);
    done.closed().await;
    Ok(())
}
