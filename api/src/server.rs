//! The gateway's HTTP server: actix-web's application served by actix's HTTP/1 layer over
//! [`Conn`], which keeps the head timeout and the framework's own error answers to the
//! gateway's rules (see `crate::conn`). It is what `HttpServer::listen` builds, with the
//! socket wrapped.

use crate::conn::{Conn, ConnSettings};
use actix_http::HttpService;
use actix_server::Server;
use actix_service::{
    IntoServiceFactory, ServiceFactory, ServiceFactoryExt, fn_service, map_config,
};
use actix_web::body::MessageBody;
use actix_web::dev::{AppConfig, Response};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_util::either::Either;

/// How long a TLS handshake may take.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(3);

/// How the gateway's server runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Worker threads.
    pub workers: usize,
    /// How long requests in flight may take to finish on a graceful stop.
    pub grace: Duration,
    /// How long a client may take to send its first request's head.
    pub head_timeout: Duration,
    /// How long an idle connection is kept.
    pub keep_alive: Duration,
    /// The most connections each worker keeps open.
    pub max_connections: usize,
    /// Whether answers carry `Strict-Transport-Security`.
    pub hsts: bool,
    /// Serve HTTPS with this configuration.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

/// A socket, plain or under TLS.
pub type Socket = Either<TcpStream, Box<tokio_rustls::server::TlsStream<TcpStream>>>;

/// Serves the application `factory` builds on `listener`; the server runs once spawned (or
/// awaited). Signals are the caller's to handle.
pub fn serve<F, I, S, B>(
    listener: TcpListener,
    settings: &Settings,
    factory: F,
) -> std::io::Result<Server>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, actix_http::Request>,
    S: ServiceFactory<actix_http::Request, Config = AppConfig> + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: std::fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    <S::Service as actix_service::Service<actix_http::Request>>::Future: 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    let addr = listener.local_addr()?;
    let conn = Arc::new(ConnSettings {
        head_timeout: settings.head_timeout,
        hsts: settings.hsts,
    });
    let (tls, keep_alive) = (settings.tls.clone(), settings.keep_alive);
    let builder = Server::build()
        .workers(settings.workers)
        .max_concurrent_connections(settings.max_connections)
        .disable_signals()
        .shutdown_timeout(settings.grace.as_secs());
    let signal = builder.graceful_shutdown_signal();
    let builder = builder.listen("registratura", listener, move || {
        let (conn, tls, signal) = (conn.clone(), tls.clone(), signal.clone());
        let secure = tls.is_some();
        let app = factory()
            .into_factory()
            .map_err(|err| err.into().error_response());
        let http = HttpService::<Conn<Socket>, _, _>::build()
            .graceful_shutdown_signal(move || {
                let signal = signal.clone();
                async move { signal.notified().await }
            })
            .keep_alive(keep_alive)
            // The head timeout is `Conn`'s (see `crate::conn`).
            .client_request_timeout(Duration::ZERO)
            .client_disconnect_timeout(Duration::from_secs(1))
            .local_addr(addr)
            .h1(map_config(app, move |()| {
                AppConfig::__priv_test_new(secure, addr.to_string(), addr)
            }));
        fn_service(move |io: TcpStream| {
            let (conn, tls) = (conn.clone(), tls.clone());
            async move { accept(io, tls, conn).await }
        })
        .and_then(http)
    })?;
    Ok(builder.run())
}

/// A new connection, through TLS when the gateway serves HTTPS.
async fn accept(
    io: TcpStream,
    tls: Option<Arc<rustls::ServerConfig>>,
    settings: Arc<ConnSettings>,
) -> Result<(Conn<Socket>, Option<SocketAddr>), actix_http::error::DispatchError> {
    let peer = io.peer_addr().ok();
    // Answers are small and written whole: no waiting to fill a segment.
    let _ = io.set_nodelay(true);
    let socket = match tls {
        None => Either::Left(io),
        Some(config) => {
            let handshake = tokio_rustls::TlsAcceptor::from(config).accept(io);
            let stream = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, handshake)
                .await
                .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
            Either::Right(Box::new(stream))
        }
    };
    Ok((Conn::new(socket, peer, settings), peer))
}
