//! An axum app serving MCP at `/mcp` beside ordinary routes, HTTP/1.1 and
//! HTTP/2 (h2c) on one port: `GET /health` → `ok`, and `GET /metrics`, the
//! server's metrics in the Prometheus text format
//! (`metrics-exporter-prometheus`). With `RUST_LOG` set
//! (`RUST_LOG=switchboard=debug`) it prints its traces to stderr.
//!
//! Run with:
//!
//! ```text
//! cargo run -p examples --bin axum [-- --addr 127.0.0.1:8080 --server hello|conformance --allow-origin ORIGIN]
//! ```
//!
//! It prints `listening on http://HOST:PORT/mcp` once it accepts; SIGINT or
//! SIGTERM shuts it down gracefully. Only tokio serves it (`--runtime
//! tokio`, the default): axum and hyper run on tokio.

use std::net::SocketAddr;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use metrics_exporter_prometheus::PrometheusBuilder;
use switchboard_core::{HttpConfig, McpServerBuilder};
use switchboard_tokio::{DEFAULT_GRACE, McpService};

const USAGE: &str = "usage: [--addr HOST:PORT] [--runtime tokio] [--server hello|conformance] \
                     [--allow-origin ORIGIN]...";

/// The command line: `--addr`, `--server` and `--allow-origin`
/// (`--runtime` only says tokio).
struct Args {
    addr: SocketAddr,
    server: fn() -> McpServerBuilder,
    allow_origins: Vec<String>,
}

impl Args {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut parsed = Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            server: examples::hello::builder,
            allow_origins: Vec::new(),
        };
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--addr" => {
                    let value = args.next().ok_or("--addr takes HOST:PORT")?;
                    parsed.addr = value
                        .parse()
                        .map_err(|_| format!("--addr: not HOST:PORT: {value}"))?;
                }
                "--runtime" => match args.next().as_deref() {
                    Some("tokio") => {}
                    Some("smol") => return Err("axum runs on tokio only, not smol".into()),
                    other => return Err(format!("--runtime takes tokio, not {other:?}")),
                },
                "--server" => {
                    parsed.server = match args.next().as_deref() {
                        Some("hello") => examples::hello::builder,
                        Some("conformance") => examples::conformance::builder,
                        other => {
                            return Err(format!(
                                "--server takes hello or conformance, not {other:?}"
                            ));
                        }
                    }
                }
                "--allow-origin" => {
                    let value = args.next().ok_or("--allow-origin takes ORIGIN")?;
                    parsed.allow_origins.push(examples::origin(&value)?);
                }
                other => return Err(format!("unknown argument {other}")),
            }
        }
        Ok(parsed)
    }
}

async fn serve(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    // Installed before the server is built, so the metrics' help texts
    // (described when it is built) reach the exporter.
    let prometheus = PrometheusBuilder::new().install_recorder()?;
    // Browser pages on the allowed origins get CORS grants from the
    // service itself: the router needs no CORS layer.
    let config = examples::allow_origins(HttpConfig::default(), &args.allow_origins);
    let mcp = McpService::new((args.server)(), config)?;
    let metrics = move || {
        let prometheus = prometheus.clone();
        async move {
            // Histograms are folded into their summaries here.
            prometheus.run_upkeep();
            prometheus.render()
        }
    };
    let app = axum::Router::new()
        .route("/health", axum::routing::get(|| async { "ok" }))
        .route("/metrics", axum::routing::get(metrics))
        .route_service("/mcp", mcp.clone());
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    let stop = mcp.shutdown_signal();
    switchboard_tokio::shutdown_on_signals(stop.clone())?;
    {
        use std::io::Write as _;
        println!("listening on http://{}/mcp", listener.local_addr()?);
        // Scripts wait for this line; make sure it is out before serving.
        std::io::stdout().flush()?;
    }
    // One builder for HTTP/1.1 and HTTP/2 with prior knowledge (h2c), with
    // a timer and our listener's limits: a bare builder never times out a
    // head trickled byte by byte.
    let http = mcp.connection_builder();
    let graceful = GracefulShutdown::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop.triggered() => break,
        };
        // An accept error (a full file table, an aborted handshake)
        // concerns one connection.
        let Ok((stream, _)) = accepted else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let conn = http.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn.into_owned());
        tokio::spawn(async move {
            // A connection's error (a reset client) ends that connection only.
            let _ = conn.await;
        });
    }
    // Open streams have ended with the signal; requests in flight finish.
    let _ = tokio::time::timeout(DEFAULT_GRACE, graceful.shutdown()).await;
    mcp.shutdown(DEFAULT_GRACE).await?;
    Ok(())
}

fn main() {
    examples::init_tracing();
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(why) => {
            eprintln!("error: {why}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Into::into)
        .and_then(|rt| rt.block_on(serve(args)));
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
