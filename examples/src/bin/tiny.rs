//! The smallest server: one tool, `echo`, over Streamable HTTP, with no
//! optional feature of core (no schemars, no validation, no traces or
//! metrics, no `requestState`).
//!
//! Run with:
//!
//! ```text
//! cargo run -p examples --no-default-features --bin tiny [-- --runtime smol|tokio|smol-local|tokio-local --addr 127.0.0.1:8080]
//! bash scripts/build-tiny.sh    # the size-optimised build (`[profile.tiny]`), prints its path
//! ```
//!
//! It prints `listening on http://HOST:PORT/mcp`. Without schemars the
//! tool's `inputSchema` is written by hand; the arguments are still read
//! into `EchoArgs` before the handler runs.

use examples::{Cli, serve_http};
use serde_json::json;
use switchboard_core::{McpServerBuilder, Tool};

/// The `echo` tool's arguments.
#[derive(serde::Deserialize)]
struct EchoArgs {
    /// The text to send back.
    text: String,
}

fn main() {
    let args = Cli::from_env();
    if args.stdio {
        eprintln!("error: tiny serves HTTP only");
        std::process::exit(2);
    }
    let echo = Tool::new("echo", "Returns its `text` argument").input_schema(json!({
        "type": "object",
        "properties": { "text": { "type": "string" } },
        "required": ["text"],
    }));
    let builder = McpServerBuilder::new()
        .server_info("tiny", env!("CARGO_PKG_VERSION"))
        .tool(echo, |args: EchoArgs, _ctx| async move { Ok(args.text) });
    if let Err(e) = serve_http(&args, builder) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
