//! What every example server shares: the command line
//! (`--runtime smol|tokio|smol-local|tokio-local`, `--addr HOST:PORT`, `--stdio`,
//! `--allow-origin ORIGIN`, `--redis redis://HOST:PORT`, `--state-key HEX`), starting a
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
    /// `--redis redis://HOST:PORT`: keep sessions in that Redis (a
    /// `RedisSessionStore`), so that every server started with it serves
    /// every session any of them opened.
    pub redis: Option<String>,
    /// `--state-key HEX`, at most twice (current, then previous): the
    /// keyring sealing stateless `requestState`, the same on every replica
    /// (see [`state_keys`]).
    pub state_keys: Vec<String>,
}

/// The usage line of the shared flags.
pub const USAGE: &str = "usage: [--runtime smol|tokio|smol-local|tokio-local] [--addr HOST:PORT] \
                         [--stdio] [--allow-origin ORIGIN]... [--redis redis://HOST:PORT] \
                         [--state-key HEX [--state-key HEX]]";

impl Cli {
    /// Parses `std::env::args()`, exiting with a usage line on bad input.
    pub fn from_env() -> Self {
        match Self::parse(std::env::args().skip(1)) {
            Ok(args) => args,
            Err(why) => {
                eprintln!("error: {why}\n{USAGE}");
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
            redis: None,
            state_keys: Vec::new(),
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
                "--redis" => {
                    let value = args.next().ok_or("--redis takes redis://HOST:PORT")?;
                    if !(value.starts_with("redis://") || value.starts_with("rediss://")) {
                        return Err(format!("--redis takes a redis:// URL, not {value:?}"));
                    }
                    parsed.redis = Some(value);
                }
                "--state-key" => {
                    let value = args.next().ok_or("--state-key takes HEX")?;
                    parsed.state_keys.push(value);
                }
                other => return Err(format!("unknown argument {other}")),
            }
        }
        // Checked here, so a bad key stops the server before it binds.
        #[cfg(feature = "full")]
        state_keys(&parsed.state_keys)?;
        #[cfg(not(feature = "full"))]
        if !parsed.state_keys.is_empty() || parsed.redis.is_some() {
            return Err("--state-key and --redis need the examples' `full` feature".into());
        }
        if parsed.stdio && parsed.redis.is_some() {
            return Err("--redis shares HTTP sessions; --stdio has none to share".into());
        }
        Ok(parsed)
    }

    /// `config` with the `--state-key` keyring, when one was given.
    ///
    /// # Errors
    ///
    /// A sentence saying which key is wrong (never, after [`Cli::parse`]
    /// accepted them).
    #[cfg(feature = "full")]
    pub fn server_config(
        &self,
        config: switchboard_core::ServerConfig,
    ) -> Result<switchboard_core::ServerConfig, String> {
        Ok(match state_keys(&self.state_keys)? {
            Some(keys) => config.request_state_keys(keys),
            None => config,
        })
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

/// Decodes hex (either case) into bytes.
#[cfg(feature = "full")]
fn hex(text: &str) -> Result<Vec<u8>, String> {
    let digits = text.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return Err(format!(
            "a key needs an even number of hex digits, not {}",
            digits.len()
        ));
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(format!("not a hex digit: {:?}", char::from(c))),
    };
    digits
        .chunks(2)
        .map(|pair| Ok(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect()
}

/// The `requestState` keyring of hex keys (current, then optionally
/// previous, each of at least
/// [`MIN_KEY_BYTES`](switchboard_core::stateless::MIN_KEY_BYTES)); `None`
/// for none.
///
/// # Errors
///
/// A sentence saying which key is wrong, or that there are more than two.
#[cfg(feature = "full")]
pub fn state_keys(
    keys: &[String],
) -> Result<Option<switchboard_core::stateless::RequestStateKeys>, String> {
    use switchboard_core::stateless::{KeyTooShort, MIN_KEY_BYTES, RequestStateKeys};
    let short = |i: usize| {
        move |e: KeyTooShort| {
            format!(
                "state key {}: {} bytes, at least {MIN_KEY_BYTES} needed ({} hex digits)",
                i + 1,
                e.0,
                MIN_KEY_BYTES * 2
            )
        }
    };
    match keys {
        [] => Ok(None),
        [current] => Ok(Some(
            RequestStateKeys::new(hex(current)?).map_err(short(0))?,
        )),
        [current, previous] => Ok(Some(
            RequestStateKeys::new(hex(current)?)
                .map_err(short(0))?
                .with_previous(hex(previous)?)
                .map_err(short(1))?,
        )),
        more => Err(format!(
            "at most two --state-key (current, previous), not {}",
            more.len()
        )),
    }
}

/// `builder` with its sessions in the Redis at `url` when there is one,
/// connected on the runtime this is awaited on (`tokio` says which
/// adapter's); unchanged without a URL.
///
/// # Errors
///
/// The Redis cannot be reached (within 5 s).
#[cfg(feature = "full")]
pub async fn with_session_store(
    builder: switchboard_core::McpServerBuilder,
    url: Option<&str>,
    tokio: bool,
) -> Result<switchboard_core::McpServerBuilder, Box<dyn std::error::Error>> {
    let Some(url) = url else {
        return Ok(builder);
    };
    let store: Arc<dyn switchboard_core::session_store::SessionStore> = if tokio {
        Arc::new(switchboard_tokio::redis_session_store(url).await?)
    } else {
        Arc::new(switchboard_smol::redis_session_store(url).await?)
    };
    eprintln!("sessions: redis {url}");
    Ok(builder.session_store(store))
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
    let redis = args.redis.as_deref();
    match args.runtime {
        RuntimeChoice::Smol => {
            // One executor, run on this thread: tasks, timers and I/O all here.
            let ex = Arc::new(smol::Executor::new());
            let runtime = switchboard_smol::SmolRuntime::with_executor(Arc::clone(&ex));
            smol::block_on(ex.run(async {
                let builder = store(builder, redis, false).await?;
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
                let builder = store(builder, redis, true).await?;
                let bound = switchboard_tokio::HttpServer::bind(addr, builder, config).await;
                serve(bound, handlers, ready).await
            })
        }
        RuntimeChoice::SmolLocal => switchboard_smol::block_on_local(|runtime| async move {
            let builder = store(builder, redis, false).await?;
            let bound =
                switchboard_smol::HttpServer::bind_with(addr, builder, config, runtime).await;
            serve(bound, handlers, ready).await
        }),
        RuntimeChoice::TokioLocal => switchboard_tokio::block_on_local(|runtime| async move {
            let builder = store(builder, redis, true).await?;
            let bound =
                switchboard_tokio::HttpServer::bind_with(addr, builder, config, runtime).await;
            serve(bound, handlers, ready).await
        })?,
    }
}

/// `builder` with the `--redis` session store, on builds with Redis.
async fn store(
    builder: switchboard_core::McpServerBuilder,
    redis: Option<&str>,
    tokio: bool,
) -> Result<switchboard_core::McpServerBuilder, Box<dyn std::error::Error>> {
    #[cfg(feature = "full")]
    return with_session_store(builder, redis, tokio).await;
    #[cfg(not(feature = "full"))]
    match redis {
        None => Ok(builder),
        Some(_) => {
            let _ = tokio;
            Err("--redis needs the examples' `full` feature".into())
        }
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

#[cfg(all(test, feature = "full"))]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, String> {
        Cli::parse(args.iter().map(|a| (*a).to_owned()))
    }

    #[test]
    fn redis_and_state_keys_are_parsed_and_checked() {
        let key = "ab".repeat(32);
        let cli = parse(&["--redis", "redis://127.0.0.1:6379", "--state-key", &key]).unwrap();
        assert_eq!(cli.redis.as_deref(), Some("redis://127.0.0.1:6379"));
        assert!(
            cli.server_config(switchboard_core::ServerConfig::default())
                .is_ok()
        );
        assert!(
            parse(&["--redis", "http://x"])
                .unwrap_err()
                .contains("redis://")
        );
        assert!(parse(&["--redis"]).is_err());
        assert!(
            parse(&["--state-key", "abc"])
                .unwrap_err()
                .contains("even number")
        );
        assert!(
            parse(&["--state-key", "zz"])
                .unwrap_err()
                .contains("hex digit")
        );
        assert!(
            parse(&["--state-key", "abcd"])
                .unwrap_err()
                .contains("at least 32")
        );
        let three = parse(&[
            "--state-key",
            &key,
            "--state-key",
            &key,
            "--state-key",
            &key,
        ]);
        assert!(three.unwrap_err().contains("at most two"));
        assert!(parse(&["--stdio", "--redis", "redis://h:1"]).is_err());
        let plain = parse(&[]).unwrap();
        assert!(plain.redis.is_none() && plain.state_keys.is_empty());
    }

    #[test]
    fn keys_are_hex_of_either_case() {
        assert!(super::hex("é0").is_err());
        assert_eq!(super::hex("00fF").unwrap(), vec![0, 255]);
    }
}
