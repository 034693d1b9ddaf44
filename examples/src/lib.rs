//! What every example server shares: the command line
//! (`--runtime smol|tokio`, `--addr HOST:PORT`, `--stdio`,
//! `--allow-origin ORIGIN`), starting a
//! server on the chosen runtime, and the servers more than one binary
//! serves ([`hello`], [`conformance`]).

use std::net::SocketAddr;
use std::sync::Arc;

use switchboard_core::Runtime;

#[cfg(feature = "full")]
pub mod conformance;
#[cfg(feature = "full")]
pub mod hello;

/// Which executor serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuntimeChoice {
    /// smol (the default).
    Smol,
    /// tokio, multi-threaded.
    Tokio,
}

/// The parsed command line.
#[derive(Clone, Debug)]
pub struct Cli {
    /// `--runtime`.
    pub runtime: RuntimeChoice,
    /// `--addr` (default 127.0.0.1:8080; port 0 picks a free one).
    pub addr: SocketAddr,
    /// `--stdio`: serve newline-delimited JSON on stdin/stdout instead of HTTP.
    pub stdio: bool,
    /// `--allow-origin ORIGIN`, repeatable: browser pages on these origins
    /// may call the server too (besides loopback ones); `*` allows any.
    pub allow_origins: Vec<String>,
}

impl Cli {
    /// Parses `std::env::args()`, exiting with a usage line on bad input.
    pub fn from_env() -> Self {
        match Self::parse(std::env::args().skip(1)) {
            Ok(args) => args,
            Err(why) => {
                eprintln!(
                    "error: {why}\nusage: [--runtime smol|tokio] [--addr HOST:PORT] [--stdio] \
                     [--allow-origin ORIGIN]..."
                );
                std::process::exit(2);
            }
        }
    }

    /// Parses arguments (without the program name).
    ///
    /// # Errors
    ///
    /// A sentence saying which argument is wrong.
    pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut parsed = Self {
            runtime: RuntimeChoice::Smol,
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            stdio: false,
            allow_origins: Vec::new(),
        };
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--runtime" => {
                    parsed.runtime = match args.next().as_deref() {
                        Some("smol") => RuntimeChoice::Smol,
                        Some("tokio") => RuntimeChoice::Tokio,
                        other => {
                            return Err(format!("--runtime takes smol or tokio, not {other:?}"));
                        }
                    }
                }
                "--addr" => {
                    let value = args.next().ok_or("--addr takes HOST:PORT")?;
                    parsed.addr = value
                        .parse()
                        .map_err(|_| format!("--addr: not HOST:PORT: {value}"))?;
                }
                "--stdio" => parsed.stdio = true,
                "--allow-origin" => {
                    let value = args.next().ok_or("--allow-origin takes ORIGIN")?;
                    parsed.allow_origins.push(origin(&value)?);
                }
                other => return Err(format!("unknown argument {other}")),
            }
        }
        Ok(parsed)
    }

    /// `config` with the origins of `--allow-origin` allowed (see
    /// [`allow_origins`]).
    pub fn http_config(
        &self,
        config: switchboard_core::HttpConfig,
    ) -> switchboard_core::HttpConfig {
        allow_origins(config, &self.allow_origins)
    }
}

/// Checks one `--allow-origin` value: `*`, or `scheme://host[:port]` with
/// no path (an origin is compared whole, so `https://a.example/` would
/// never match a browser's `Origin`).
///
/// # Errors
///
/// A sentence saying what is wrong with it.
pub fn origin(value: &str) -> Result<String, String> {
    let ok = value == "*"
        || value.split_once("://").is_some_and(|(scheme, rest)| {
            !scheme.is_empty() && !rest.is_empty() && !rest.contains('/')
        });
    if ok {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "--allow-origin takes scheme://host[:port] (no path) or *, not {value:?}"
        ))
    }
}

/// `config` with browser pages on `origins` allowed besides loopback ones
/// (the `Origin` allow-list, which also decides CORS): unchanged when
/// `origins` is empty, any origin when it holds `*`.
pub fn allow_origins(
    config: switchboard_core::HttpConfig,
    origins: &[String],
) -> switchboard_core::HttpConfig {
    use switchboard_core::http::AllowList;
    if origins.is_empty() {
        config
    } else if origins.iter().any(|o| o == "*") {
        config.allowed_origins(AllowList::Any)
    } else {
        config.allowed_origins(AllowList::LoopbackAnd(origins.to_vec()))
    }
}

/// Prints the server's traces to stderr when `RUST_LOG` is set (say
/// `RUST_LOG=switchboard=debug`), with `tracing-subscriber`'s formatter;
/// does nothing otherwise. Every example but `tiny` calls it first.
#[cfg(feature = "full")]
pub fn init_tracing() {
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
}

/// Runs `serve` to completion on the chosen runtime, handing it that
/// runtime's [`Runtime`] implementation.
pub fn block_on<F, Fut>(choice: RuntimeChoice, serve: F) -> Fut::Output
where
    F: FnOnce(Arc<dyn Runtime>) -> Fut,
    Fut: std::future::Future,
{
    match choice {
        RuntimeChoice::Smol => {
            smol::block_on(serve(Arc::new(switchboard_smol::SmolRuntime::global())))
        }
        RuntimeChoice::Tokio => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime starts");
            let runtime = Arc::new(switchboard_tokio::TokioRuntime::from_handle(
                rt.handle().clone(),
            ));
            rt.block_on(serve(runtime))
        }
    }
}

/// Serves `builder` over Streamable HTTP at `args.addr` on the chosen
/// runtime, printing `listening on http://HOST:PORT/mcp` once it accepts.
/// SIGINT or SIGTERM shuts it down gracefully (requests in flight finish,
/// then it returns); a second signal exits at once.
///
/// # Errors
///
/// A bind failure, or the server's loop failing.
pub fn serve_http(
    args: &Cli,
    builder: switchboard_core::McpServerBuilder,
) -> Result<(), Box<dyn std::error::Error>> {
    serve_http_with(args, builder, |_| {})
}

/// [`serve_http`], handing the built server to `ready` before it serves
/// (for handlers that need the server itself, to announce list changes).
///
/// # Errors
///
/// A bind failure, or the server's loop failing.
pub fn serve_http_with(
    args: &Cli,
    builder: switchboard_core::McpServerBuilder,
    ready: impl FnOnce(&switchboard_core::McpServer),
) -> Result<(), Box<dyn std::error::Error>> {
    serve_http_config(
        args,
        builder,
        switchboard_core::HttpConfig::default(),
        ready,
    )
}

/// [`serve_http_with`] under `config` (an auth hook, other limits).
///
/// # Errors
///
/// A bind failure, or the server's loop failing.
pub fn serve_http_config(
    args: &Cli,
    builder: switchboard_core::McpServerBuilder,
    config: switchboard_core::HttpConfig,
    ready: impl FnOnce(&switchboard_core::McpServer),
) -> Result<(), Box<dyn std::error::Error>> {
    let addr = args.addr;
    let config = args.http_config(config);
    let announce = |url: String| {
        use std::io::Write as _;
        println!("listening on {url}");
        // Scripts wait for this line; make sure it is out before serving.
        let _ = std::io::stdout().flush();
    };
    match args.runtime {
        RuntimeChoice::Smol => {
            // One executor, run on this thread: tasks, timers and I/O all here.
            let ex = Arc::new(smol::Executor::new());
            let runtime = switchboard_smol::SmolRuntime::with_executor(Arc::clone(&ex));
            smol::block_on(ex.run(async {
                let server =
                    switchboard_smol::HttpServer::bind_with(addr, builder, config, runtime)
                        .await?
                        .shutdown_on_signals()?;
                ready(server.server());
                announce(server.url()?);
                server.run().await?;
                Ok(())
            }))
        }
        RuntimeChoice::Tokio => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let server = switchboard_tokio::HttpServer::bind(addr, builder, config)
                    .await?
                    .shutdown_on_signals()?;
                ready(server.server());
                announce(server.url()?);
                server.run().await?;
                Ok(())
            })
        }
    }
}
