//! A small MCP server: tools `echo`, `add`, `sleep`, `count_to` and `ask_name` (tasks for clients that take tasks), a resource and a prompt.
//!
//! Run with:
//!
//! ```text
//! cargo run -p examples --bin hello [-- --runtime smol|tokio --addr 127.0.0.1:8080 --allow-origin ORIGIN]
//! cargo run -p examples --bin hello -- --redis redis://127.0.0.1:6379 --state-key HEX
//! cargo run -p examples --bin hello -- --stdio
//! ```
//!
//! Over HTTP it prints `listening on http://HOST:PORT/mcp`; with `--stdio`
//! it reads newline-delimited JSON-RPC on stdin. With `--redis` its
//! sessions live in that Redis (any replica started with it serves any
//! session); `--state-key` (64 hex digits or more, current then previous)
//! is the keyring every replica shares for stateless `requestState`.

use examples::hello::builder as hello;
use examples::{Cli, serve_http};
use switchboard_core::ServerConfig;

fn main() {
    examples::init_tracing();
    let args = Cli::from_env();
    let config = args
        .server_config(ServerConfig::default())
        .expect("checked by Cli::parse");
    let builder = hello().config(config);
    let result = if args.stdio {
        examples::serve_stdio(args.runtime, builder).map_err(Into::into)
    } else {
        serve_http(&args, builder)
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
