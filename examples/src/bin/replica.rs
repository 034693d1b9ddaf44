//! An MCP server meant to run as one of several replicas behind a load
//! balancer (see `scale/` for HAProxy and nginx configurations and a
//! driver that checks both eras through them).
//!
//! ```text
//! cargo run -p examples --bin replica -- --name a [--tag TAG | --no-tag] [--redis URL [--shared-sessions]] \
//!     [--state-key HEX [--state-key HEX]] [--allow-host NAME]... [--runtime smol|tokio] \
//!     [--addr HOST:PORT] [--task-lease-ms MS]
//! ```
//!
//! It prints `listening on http://HOST:PORT/mcp` once it accepts, and
//! serves both eras (session and stateless 2026-07-28) on the default
//! endpoint with four tools and one resource:
//!
//! - `whoami`: the replica's `--name`, so a client can see which replica
//!   served it;
//! - `echo`: its `text` argument back;
//! - `greet`: a multi round-trip request. It asks the client for a name
//!   by elicitation (the question's message names the replica that asked)
//!   and answers `hello NAME from REPLICA`, naming the replica that served
//!   the final leg. In the stateless era the first leg ends
//!   `input_required` with a signed `requestState` and the retry may land
//!   on any replica that shares the keyring; in a session it is a real
//!   server→client request on the call's stream;
//! - `touch`: announces a change of the resource named by its `uri`
//!   argument (`notifications/resources/updated`) to every session
//!   subscribed to it and every `subscriptions/listen` stream that asked,
//!   on every replica sharing the event bus (`--redis`), this one's alone
//!   without it; answers `touched URI on REPLICA`;
//! - `job`: a task-optional tool (the 2026-07-28 tasks extension): with
//!   `ask: true` it first asks `replica NAME asks: go on?` (elicitation,
//!   `input_required` until `tasks/update`), then works `seconds` (default
//!   2) in steps of 100 ms, its `statusMessage` `step I of N on NAME`, and
//!   answers `job done on NAME`: the replica that ran it, whichever served
//!   the `tasks/get`;
//! - the resource `mem://status`: `replica NAME, N touches made here`,
//!   something to subscribe to.
//!
//! **Session id tag.** `--tag TAG` makes the replica mint session ids
//! `TAG.{32 hex}` (`ServerConfig::session_id_tag`), so a balancer that
//! cannot learn stickiness from a response (nginx open source) can route a
//! session's requests by the id's prefix (see `scale/nginx.conf.in`). A
//! tag is 1 to 32 characters of `A-Z a-z 0-9 _ -`, and must be unique per
//! replica. Without `--tag` the `--name` is the tag when it is a valid
//! one (so `--name a` mints `a.…`), and ids are untagged otherwise;
//! `--no-tag` mints untagged ids whatever the name.
//!
//! **Event bus.** `--redis redis://HOST:PORT` connects to Redis (pub/sub
//! channel `switchboard:changes`) before serving and shares list changes
//! and resource updates with every replica on that channel: a `touch`
//! through replica B reaches a session subscribed on replica A. Only
//! changes travel. Sessions stay on the replica that minted them (`scale/`
//! routes them sticky, and checks that a killed replica's clients start
//! over), unless `--shared-sessions` keeps them in that Redis too
//! (`RedisSessionStore`): then a session-era request may reach any
//! replica, though what is sent on a session's open streams still stays
//! with the replica that holds them. List changes are announced
//! (`listChanged` declared) with or without a bus.
//!
//! **Tasks on every replica.** With `--redis` tasks are kept in Redis too
//! (`RedisTaskStore`, prefix `switchboard:tasks`): any replica answers
//! `tasks/get`, `tasks/update` and `tasks/cancel`, and the last two reach
//! the replica running the task over its Redis channel. A replica that
//! dies leaves its unfinished tasks `failed` after its lease lapses:
//! `--task-lease-ms MS` (default 10000). Without `--redis` each replica
//! keeps its own tasks in memory.
//!
//! **The `requestState` keyring.** Every replica behind one balancer must
//! share it, or a retry served by another replica than the first leg is
//! refused (`-32602`). Give it as `--state-key HEX` (64 or more hex digits,
//! that is 32 or more bytes): the first one is the current key (it seals
//! and opens), an optional second one the previous key (it only opens, so
//! state sealed before a rotation stays good until it expires). Without
//! the flags the environment variable `SWITCHBOARD_STATE_KEYS` is read, the
//! same keys comma-separated in the same order (current first); it keeps
//! keys out of `ps` output. Flags win over the variable. With neither a
//! random key is drawn and a warning printed: right for one process, wrong
//! for several. To rotate: start every replica with `NEW,OLD`, and drop
//! `OLD` once the state TTL (10 min) has passed.
//!
//! **Host headers.** The engine accepts loopback `Host` headers only by
//! default. A balancer such as HAProxy or nginx (with
//! `proxy_set_header Host $http_host`) forwards the client's `Host`
//! unchanged, so clients that reach the balancer on 127.0.0.1 pass. Behind a
//! balancer reached by a public name, add that name with `--allow-host
//! NAME` (repeatable; loopback names stay accepted).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use examples::{Cli, RuntimeChoice, state_keys};
use schemars::JsonSchema;
use serde::Deserialize;
use switchboard_core::http::AllowList;
use switchboard_core::tasks::{TaskConfig, TaskStore, TaskSupport};
use switchboard_core::{
    Args, CallToolResult, Elicitation, HttpConfig, McpServerBuilder, ReadResourceResult, Resource,
    ResourceContents, ServerConfig, Tool,
};

/// The environment variable holding the keyring when no `--state-key`
/// is given: hex keys, comma-separated, current first.
const KEYS_ENV: &str = "SWITCHBOARD_STATE_KEYS";

/// The usage line printed on bad input.
const USAGE: &str = "usage: --name NAME [--tag TAG | --no-tag] [--redis URL [--shared-sessions]] \
                     [--state-key HEX [--state-key HEX]] [--allow-host NAME]... \
                     [--runtime smol|tokio] [--addr HOST:PORT] [--allow-origin ORIGIN]... \
                     [--task-lease-ms MS]";

/// The Redis pub/sub channel the replicas share changes on.
const CHANNEL: &str = "switchboard:changes";

/// The resource sessions subscribe to.
const STATUS_URI: &str = "mem://status";

/// `echo`'s arguments.
#[derive(Deserialize, JsonSchema)]
struct EchoArgs {
    /// The text to send back.
    text: String,
}

/// `touch`'s arguments.
#[derive(Deserialize, JsonSchema)]
struct TouchArgs {
    /// The URI of the resource to announce as updated.
    uri: String,
}

/// `job`'s arguments.
#[derive(Deserialize, JsonSchema)]
struct JobArgs {
    /// How long it works, in seconds (default 2, at most 600).
    #[serde(default)]
    seconds: Option<f64>,
    /// Whether it first asks the user to go on.
    #[serde(default)]
    ask: bool,
}

/// What `greet` asks the user for.
#[derive(Deserialize, JsonSchema)]
struct Person {
    /// Your name
    name: String,
}

/// The replica's own flags, and the shared ones.
struct Flags {
    /// `--name`.
    name: String,
    /// The session id tag: `--tag`, else the name if it is a valid tag;
    /// `None` for untagged ids (`--no-tag`, or a name that is no tag).
    tag: Option<String>,
    /// `--redis`.
    redis: Option<String>,
    /// `--shared-sessions`: sessions in `--redis` too.
    shared_sessions: bool,
    /// `--state-key` (or the environment's keys), as hex.
    keys: Vec<String>,
    /// `--allow-host`.
    hosts: Vec<String>,
    /// `--task-lease-ms`: the Redis task store's lease (its default when
    /// not given).
    lease: Option<Duration>,
    /// `--runtime`, `--addr`.
    cli: Cli,
}

/// Reads the command line (and, without `--state-key`, the environment).
fn flags(args: impl Iterator<Item = String>, env_keys: Option<String>) -> Result<Flags, String> {
    let mut rest = Vec::new();
    let (mut name, mut keys, mut hosts) = (None, Vec::new(), Vec::new());
    let (mut tag, mut no_tag, mut redis) = (None, false, None);
    let mut lease = None;
    let mut shared_sessions = false;
    let mut args = args;
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} takes a value"));
        match arg.as_str() {
            "--name" => name = Some(value()?),
            "--tag" => tag = Some(value()?),
            "--no-tag" => no_tag = true,
            "--redis" => redis = Some(value()?),
            "--shared-sessions" => shared_sessions = true,
            "--state-key" => keys.push(value()?),
            "--allow-host" => hosts.push(value()?),
            "--task-lease-ms" => {
                let ms: u64 = value()?
                    .parse()
                    .map_err(|_| "--task-lease-ms takes milliseconds".to_owned())?;
                lease = Some(Duration::from_millis(ms));
            }
            _ => rest.push(arg),
        }
    }
    if keys.is_empty()
        && let Some(env) = env_keys
    {
        keys = env
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_owned)
            .collect();
    }
    let name = name.ok_or("--name NAME is required")?;
    if name.is_empty() {
        return Err("--name must not be empty".into());
    }
    let tag = match (tag, no_tag) {
        (Some(_), true) => return Err("--tag and --no-tag exclude each other".into()),
        (Some(tag), false) if !valid_tag(&tag) => {
            return Err(format!(
                "--tag: 1 to 32 characters of A-Z a-z 0-9 _ -, not {tag:?}"
            ));
        }
        (Some(tag), false) => Some(tag),
        (None, true) => None,
        (None, false) => valid_tag(&name).then(|| name.clone()),
    };
    if let Some(url) = &redis
        && !(url.starts_with("redis://") || url.starts_with("rediss://"))
    {
        return Err(format!("--redis takes a redis:// URL, not {url:?}"));
    }
    if shared_sessions && redis.is_none() {
        return Err("--shared-sessions needs --redis".into());
    }
    let cli = Cli::parse(rest.into_iter())?;
    if cli.stdio {
        return Err("a replica serves HTTP only; --stdio is not taken".into());
    }
    Ok(Flags {
        name,
        tag,
        redis,
        shared_sessions,
        keys,
        hosts,
        lease,
        cli,
    })
}

/// Whether `tag` may lead session ids (`ServerConfig::session_id_tag`
/// panics on any other): 1 to 32 characters of `A-Z a-z 0-9 _ -`.
fn valid_tag(tag: &str) -> bool {
    (1..=32).contains(&tag.len())
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The server: the four tools and `mem://status`, named after replica
/// `name`.
fn builder(name: &str, config: ServerConfig) -> McpServerBuilder {
    let me = name.to_owned();
    let whoami = me.clone();
    let toucher = me.clone();
    let status = me.clone();
    let worker = me.clone();
    let touches = Arc::new(AtomicU64::new(0));
    let touched = Arc::clone(&touches);
    McpServerBuilder::new()
        .server_info(format!("replica-{name}"), env!("CARGO_PKG_VERSION"))
        .config(config)
        .tool(
            Tool::new("whoami", "The name of the replica serving this call"),
            move |_: serde_json::Value, _ctx| {
                let name = whoami.clone();
                async move { Ok(CallToolResult::text(name)) }
            },
        )
        .tool(
            Tool::new("echo", "Echoes its text"),
            |Args(args): Args<EchoArgs>, _ctx| async move { Ok(args.text) },
        )
        .tool(
            Tool::new(
                "touch",
                "Announces the resource at `uri` as updated, to every subscriber on every \
                 replica sharing the event bus",
            ),
            move |Args(args): Args<TouchArgs>, ctx| {
                let me = toucher.clone();
                let touches = Arc::clone(&touches);
                async move {
                    let Some(server) = ctx.server() else {
                        return Ok(CallToolResult::error("the server is shutting down"));
                    };
                    touches.fetch_add(1, Ordering::Relaxed);
                    server.notify_resource_updated(&args.uri).await;
                    Ok(CallToolResult::text(format!(
                        "touched {} on {me}",
                        args.uri
                    )))
                }
            },
        )
        .resource(
            Resource::new(STATUS_URI, "status")
                .description("The replica's name and the touches made through it")
                .mime_type("text/plain"),
            move |uri, _ctx| {
                let text = format!(
                    "replica {status}, {} touches made here",
                    touched.load(Ordering::Relaxed)
                );
                async move {
                    Ok(ReadResourceResult::new(vec![ResourceContents::text(
                        uri,
                        "text/plain",
                        text,
                    )]))
                }
            },
        )
        .task_tool(
            Tool::new(
                "job",
                "Works `seconds` (default 2) as a task, asking first when `ask`, and names the \
                 replica that ran it",
            ),
            TaskSupport::Optional,
            move |Args(args): Args<JobArgs>, ctx| {
                let me = worker.clone();
                async move {
                    if args.ask {
                        let params = serde_json::json!({
                            "message": format!("replica {me} asks: go on?"),
                            "requestedSchema": {"type": "object", "properties": {}},
                        });
                        let answer = ctx.input("go", "elicitation/create", params).await;
                        match answer {
                            Ok(a) if a["action"] == "accept" => {}
                            Ok(_) => return Ok(format!("job not accepted on {me}")),
                            Err(e) => return Ok(format!("job not asked on {me}: {e}")),
                        }
                    }
                    let seconds = args.seconds.unwrap_or(2.0).clamp(0.0, 600.0);
                    let steps = (seconds * 10.0).ceil() as u32;
                    for step in 1..=steps {
                        if let Some(rt) = ctx.runtime() {
                            rt.sleep(Duration::from_millis(100)).await;
                        }
                        let text = format!("step {step} of {steps} on {me}");
                        let _ = ctx
                            .progress(f64::from(step), Some(f64::from(steps)), Some(&text))
                            .await;
                    }
                    Ok(format!("job done on {me}"))
                }
            },
        )
        .tool(
            Tool::new(
                "greet",
                "Asks the user's name (a multi round-trip request) and greets them, naming the \
                 replica that served the final leg",
            ),
            move |_: serde_json::Value, ctx| {
                let me = me.clone();
                async move {
                    let asked = ctx
                        .elicit::<Person>(&format!("replica {me} asks: what is your name?"))
                        .await;
                    Ok(match asked {
                        Ok(Elicitation::Accepted(p)) => {
                            CallToolResult::text(format!("hello {} from {me}", p.name))
                        }
                        Ok(Elicitation::Declined | Elicitation::Cancelled) => {
                            CallToolResult::text(format!("no name given, from {me}"))
                        }
                        Err(e) => CallToolResult::error(format!("elicitation failed: {e}")),
                    })
                }
            },
        )
}

fn main() {
    examples::init_tracing();
    let parsed = flags(std::env::args().skip(1), std::env::var(KEYS_ENV).ok());
    let flags = parsed.unwrap_or_else(|why| {
        eprintln!("error: {why}\n{USAGE}");
        std::process::exit(2);
    });
    let keys = state_keys(&flags.keys).unwrap_or_else(|why| {
        eprintln!("error: {why}\n{USAGE}");
        std::process::exit(2);
    });
    // Announce list changes (`listChanged`), shared through the bus when
    // there is one.
    let mut config = ServerConfig::default().list_changed(true);
    if let Some(tag) = &flags.tag {
        config = config.session_id_tag(tag.clone());
    }
    match keys {
        Some(keys) => config = config.request_state_keys(keys),
        None => eprintln!(
            "warning: no --state-key nor {KEYS_ENV}: a random requestState key is drawn, \
             so no other replica can continue this one's multi round-trip requests"
        ),
    }
    // Behind the balancer every connection comes from its address
    // (127.0.0.1 in `scale/`), so a per-address cap would hold all clients
    // to one client's share: the balancer's limits stand in for them.
    let mut http = HttpConfig::default()
        .max_connections_per_client(None)
        .max_streams_per_client(None);
    if !flags.hosts.is_empty() {
        let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "[::1]"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        hosts.extend(flags.hosts.iter().cloned());
        http = http.allowed_hosts(AllowList::Only(hosts));
    }
    let name = flags.name.clone();
    // The server, once the task store (with --redis) is connected.
    let builder: MakeBuilder = Box::new(move |store| {
        let config = match store {
            Some(store) => {
                eprintln!("tasks: {store:?}");
                config.tasks(TaskConfig::default().store(store))
            }
            None => config,
        };
        builder(&name, config)
    });
    let http = flags.cli.http_config(http);
    let redis = flags.redis.as_deref().map(|url| (url, flags.lease));
    let sessions = flags.redis.as_deref().filter(|_| flags.shared_sessions);
    if let Err(e) = serve(&flags.cli, redis, sessions, builder, http) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// Makes the server, given the shared task store when there is one.
type MakeBuilder = Box<dyn FnOnce(Option<Arc<dyn TaskStore>>) -> McpServerBuilder + Send>;

/// Prints the line scripts wait for.
fn announce(url: &str) {
    use std::io::Write as _;
    println!("listening on {url}");
    let _ = std::io::stdout().flush();
}

/// Serves `builder` at `cli.addr` on the chosen runtime, like
/// `examples::serve_http_config`, but first connects to Redis (`redis`:
/// its URL and the task store's lease; `sessions`: the session store's
/// URL) on that same runtime, so the bus's and the stores' connections
/// live on the executor that serves.
fn serve(
    cli: &Cli,
    redis: Option<(&str, Option<Duration>)>,
    sessions: Option<&str>,
    builder: MakeBuilder,
    http: HttpConfig,
) -> Result<(), Box<dyn std::error::Error>> {
    let addr = cli.addr;
    match cli.runtime {
        RuntimeChoice::Smol => {
            let ex = Arc::new(smol::Executor::new());
            let runtime = switchboard_smol::SmolRuntime::with_executor(Arc::clone(&ex));
            smol::block_on(ex.run(serve_smol(addr, redis, sessions, builder, http, runtime)))
        }
        RuntimeChoice::SmolLocal => switchboard_smol::block_on_local(|runtime| {
            serve_smol(addr, redis, sessions, builder, http, runtime)
        }),
        RuntimeChoice::Tokio => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let runtime = switchboard_tokio::TokioRuntime::from_handle(rt.handle().clone());
            rt.block_on(serve_tokio(addr, redis, sessions, builder, http, runtime))
        }
        RuntimeChoice::TokioLocal => switchboard_tokio::block_on_local(|runtime| {
            serve_tokio(addr, redis, sessions, builder, http, runtime)
        })?,
    }
}

/// [`serve`] on smol, on `runtime`'s executor.
async fn serve_smol(
    addr: std::net::SocketAddr,
    redis: Option<(&str, Option<Duration>)>,
    sessions: Option<&str>,
    make: MakeBuilder,
    http: HttpConfig,
    runtime: switchboard_smol::SmolRuntime,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut store: Option<Arc<dyn TaskStore>> = None;
    if let Some((url, lease)) = redis {
        let connected = switchboard_smol::redis_task_store(url)
            .await
            .map_err(|e| format!("--redis {url}: {e}"))?;
        let connected = match lease {
            Some(lease) => connected.lease(lease),
            None => connected,
        };
        store = Some(Arc::new(connected));
    }
    let mut builder = make(store);
    if let Some((url, _)) = redis {
        let bus = switchboard_smol::RedisBus::connect(url, CHANNEL)
            .await
            .map_err(|e| format!("--redis {url}: {e}"))?;
        eprintln!("event bus: redis {url}, channel {CHANNEL}");
        builder = builder.event_bus(Arc::new(bus));
    }
    let builder = examples::with_session_store(builder, sessions, false).await?;
    let server = switchboard_smol::HttpServer::bind_with(addr, builder, http, runtime)
        .await?
        .shutdown_on_signals()?;
    announce(&server.url()?);
    server.run().await?;
    Ok(())
}

/// [`serve`] on tokio, on `runtime`.
async fn serve_tokio(
    addr: std::net::SocketAddr,
    redis: Option<(&str, Option<Duration>)>,
    sessions: Option<&str>,
    make: MakeBuilder,
    http: HttpConfig,
    runtime: switchboard_tokio::TokioRuntime,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut store: Option<Arc<dyn TaskStore>> = None;
    if let Some((url, lease)) = redis {
        let connected = switchboard_tokio::redis_task_store(url)
            .await
            .map_err(|e| format!("--redis {url}: {e}"))?;
        let connected = match lease {
            Some(lease) => connected.lease(lease),
            None => connected,
        };
        store = Some(Arc::new(connected));
    }
    let mut builder = make(store);
    if let Some((url, _)) = redis {
        let bus = switchboard_tokio::RedisBus::connect(url, CHANNEL)
            .await
            .map_err(|e| format!("--redis {url}: {e}"))?;
        eprintln!("event bus: redis {url}, channel {CHANNEL}");
        builder = builder.event_bus(Arc::new(bus));
    }
    let builder = examples::with_session_store(builder, sessions, true).await?;
    let server = switchboard_tokio::HttpServer::bind_with(addr, builder, http, runtime)
        .await?
        .shutdown_on_signals()?;
    announce(&server.url()?);
    server.run().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> impl Iterator<Item = String> {
        list.iter()
            .map(|s| (*s).to_owned())
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn keys_come_from_flags_or_the_environment() {
        let k = "ab".repeat(32);
        let f = flags(
            args(&["--name", "a", "--state-key", &k]),
            Some("cd".repeat(32)),
        )
        .unwrap();
        assert_eq!(f.keys, vec![k.clone()]);
        let env = format!("{k}, {}", "cd".repeat(32));
        let f = flags(args(&["--name", "a"]), Some(env)).unwrap();
        assert_eq!(f.keys.len(), 2);
        assert!(state_keys(&f.keys).unwrap().is_some());
        assert!(state_keys(&[]).unwrap().is_none());
    }

    #[test]
    fn shared_sessions_need_redis() {
        let f = flags(
            args(&["--name", "a", "--redis", "redis://h:1", "--shared-sessions"]),
            None,
        )
        .unwrap();
        assert!(f.shared_sessions);
        assert!(
            !flags(args(&["--name", "a", "--redis", "redis://h:1"]), None)
                .unwrap()
                .shared_sessions
        );
        let alone = flags(args(&["--name", "a", "--shared-sessions"]), None);
        assert!(alone.is_err_and(|e| e.contains("needs --redis")));
    }

    #[test]
    fn the_tag_defaults_to_a_valid_name() {
        let tag = |list: &[&str]| flags(args(list), None).unwrap().tag;
        assert_eq!(tag(&["--name", "a"]), Some("a".into()));
        assert_eq!(
            tag(&["--name", "a", "--tag", "node-7"]),
            Some("node-7".into())
        );
        assert_eq!(tag(&["--name", "a", "--no-tag"]), None);
        assert_eq!(tag(&["--name", "replica one"]), None);
        let f = flags(
            args(&["--name", "a", "--redis", "redis://127.0.0.1:1"]),
            None,
        )
        .unwrap();
        assert_eq!(f.redis.as_deref(), Some("redis://127.0.0.1:1"));
        assert_eq!(f.lease, None);
        let f = flags(args(&["--name", "a", "--task-lease-ms", "2000"]), None).unwrap();
        assert_eq!(f.lease, Some(Duration::from_millis(2000)));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(flags(args(&[]), None).is_err());
        assert!(flags(args(&["--name"]), None).is_err());
        assert!(flags(args(&["--name", "a", "--stdio"]), None).is_err());
        assert!(flags(args(&["--name", "a", "--bogus"]), None).is_err());
        assert!(flags(args(&["--name", "a", "--tag", "a.b"]), None).is_err());
        assert!(flags(args(&["--name", "a", "--tag", ""]), None).is_err());
        assert!(flags(args(&["--name", "a", "--tag", "b", "--no-tag"]), None).is_err());
        assert!(flags(args(&["--name", "a", "--redis", "http://x"]), None).is_err());
        assert!(flags(args(&["--name", "a", "--task-lease-ms", "2s"]), None).is_err());
        assert!(flags(args(&["--name", "a", "--task-lease-ms"]), None).is_err());
        assert!(state_keys(&["abc".into()]).is_err());
        assert!(state_keys(&["zz".repeat(32)]).is_err());
        assert!(state_keys(&["ab".repeat(16)]).is_err());
        let k = "ab".repeat(32);
        assert!(state_keys(&[k.clone(), k.clone(), k]).is_err());
    }
}
