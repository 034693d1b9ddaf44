//! A small MCP server: tools `echo`, `add`, `sleep`, `count_to` and `ask_name` (tasks for clients that take tasks), a resource and a prompt.
//!
//! Run with:
//!
//! ```text
//! cargo run -p examples --bin hello [-- --runtime smol|tokio --addr 127.0.0.1:8080 --allow-origin ORIGIN]
//! cargo run -p examples --bin hello -- --stdio
//! ```
//!
//! Over HTTP it prints `listening on http://HOST:PORT/mcp`; with `--stdio`
//! it reads newline-delimited JSON-RPC on stdin.

use examples::hello::builder as hello;
use examples::{Cli, serve_http};

fn main() {
    examples::init_tracing();
    let args = Cli::from_env();
    let result = if args.stdio {
        examples::serve_stdio(args.runtime, hello()).map_err(Into::into)
    } else {
        serve_http(&args, hello())
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
