//! What every example server shares: the command line
//! (`--runtime smol|tokio|smol-local|tokio-local`, `--addr HOST:PORT`, `--stdio`,
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
    /// smol on one thread: a `LocalExecutor` (async-io's reactor thread
    /// aside).
    SmolLocal,
    /// tokio on one thread: a `current_thread` runtime with a `LocalSet`.
    TokioLocal,
}

impl RuntimeChoice {
    /// Parses a `--runtime` value.
    ///
    /// # Errors
    ///
    /// A sentence naming the values it takes.
    pub fn parse(value: Option<&str>) -> Result<Self, String> {
        match value {
            Some("smol") => Ok(Self::Smol),
            Some("tokio") => Ok(Self::Tokio),
            Some("smol-local") => Ok(Self::SmolLocal),
            Some("tokio-local") => Ok(Self::TokioLocal),
            other => Err(format!(
                "--runtime takes smol, tokio, smol-local or tokio-local, not {other:?}"
            )),
        }
    }
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
                    "error: {why}\nusage: [--runtime smol|tokio|smol-local|tokio-local] [--addr HOST:PORT] [--stdio] \
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
                "--runtime" => parsed.runtime = RuntimeChoice::parse(args.next().as_deref())?,
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
        RuntimeChoice::SmolLocal => {
            switchboard_smol::block_on_local(|runtime| serve(Arc::new(runtime)))
        }
        RuntimeChoice::TokioLocal => {
            switchboard_tokio::block_on_local(|runtime| serve(Arc::new(runtime)))
                .expect("a tokio runtime starts")
        }
    }
}

/// Serves `builder` over stdio (newline-delimited JSON-RPC on stdin and
/// stdout) on the chosen runtime, until stdin ends.
///
/// # Errors
///
/// When the serve loop fails.
pub fn serve_stdio(
    choice: RuntimeChoice,
    builder: switchboard_core::McpServerBuilder,
) -> Result<(), switchboard_core::TransportError> {
    block_on(choice, |runtime| async move {
        let builder = builder.runtime(runtime);
        match choice {
            RuntimeChoice::Smol | RuntimeChoice::SmolLocal => {
                builder.build(switchboard_smol::stdio()).run().await
            }
            RuntimeChoice::Tokio | RuntimeChoice::TokioLocal => {
                builder.build(switchboard_tokio::stdio()).run().await
            }
        }
    })
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
    serve_http_parts(args, builder, None, config, ready)
}

/// [`serve_http`] for a server with handlers that are not `Send`: they run
/// on the thread that serves (on `smol` and `tokio` too: the main thread,
/// while the engine's tasks run on the executor).
///
/// # Errors
///
/// A bind failure, or the server's loop failing.
pub fn serve_http_local(
    args: &Cli,
    builder: switchboard_core::LocalServerBuilder,
) -> Result<(), Box<dyn std::error::Error>> {
    let (builder, handlers) = builder.into_parts();
    serve_http_parts(
        args,
        builder,
        Some(handlers),
        switchboard_core::HttpConfig::default(),
        |_| {},
    )
}

/// What every `serve_http*` does: binds on the chosen runtime, announces
/// the URL, serves (with `handlers` beside the server, on this thread).
fn serve_http_parts(
    args: &Cli,
    builder: switchboard_core::McpServerBuilder,
    handlers: Option<switchboard_core::LocalHandlers>,
    config: switchboard_core::HttpConfig,
    ready: impl FnOnce(&switchboard_core::McpServer),
) -> Result<(), Box<dyn std::error::Error>> {
    let addr = args.addr;
    let config = args.http_config(config);
    match args.runtime {
        RuntimeChoice::Smol => {
            // One executor, run on this thread: tasks, timers and I/O all here.
            let ex = Arc::new(smol::Executor::new());
            let runtime = switchboard_smol::SmolRuntime::with_executor(Arc::clone(&ex));
            smol::block_on(ex.run(async {
                let bound =
                    switchboard_smol::HttpServer::bind_with(addr, builder, config, runtime).await;
                serve(bound, handlers, ready).await
            }))
        }
        RuntimeChoice::Tokio => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            // `block_on` runs its future on this thread: the local handlers
            // stay here, the engine's tasks go to the workers.
            rt.block_on(async {
                let bound = switchboard_tokio::HttpServer::bind(addr, builder, config).await;
                serve(bound, handlers, ready).await
            })
        }
        RuntimeChoice::SmolLocal => switchboard_smol::block_on_local(|runtime| async move {
            let bound =
                switchboard_smol::HttpServer::bind_with(addr, builder, config, runtime).await;
            serve(bound, handlers, ready).await
        }),
        RuntimeChoice::TokioLocal => switchboard_tokio::block_on_local(|runtime| async move {
            let bound =
                switchboard_tokio::HttpServer::bind_with(addr, builder, config, runtime).await;
            serve(bound, handlers, ready).await
        })?,
    }
}

/// Serves a bound server until its shutdown: signals watched, `ready`
/// called, the URL printed, then the serve loop (with `handlers` beside it).
async fn serve<L: switchboard_core::http::Listener>(
    bound: std::io::Result<switchboard_core::http::HttpServer<L>>,
    handlers: Option<switchboard_core::LocalHandlers>,
    ready: impl FnOnce(&switchboard_core::McpServer),
) -> Result<(), Box<dyn std::error::Error>> {
    use std::io::Write as _;
    let server = bound?.shutdown_on_signals()?;
    ready(server.server());
    println!("listening on {}", server.url()?);
    // Scripts wait for this line; make sure it is out before serving.
    let _ = std::io::stdout().flush();
    match handlers {
        Some(handlers) => handlers.serve(server.run()).await?,
        None => server.run().await?,
    }
    Ok(())
}
