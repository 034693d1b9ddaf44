//! The fixtures the official MCP conformance suite expects of a server
//! (built in [`examples::conformance`]).
//!
//! Run with:
//!
//! ```text
//! cargo run -p examples --bin conformance [-- --runtime smol|tokio --addr 127.0.0.1:8080 \
//!     --redis redis://127.0.0.1:6379 --state-key HEX]
//! ```
//!
//! `conformance/run.sh` starts it and runs the suite against it. With
//! `--redis` its sessions live in that Redis, so several of it behind a
//! balancer serve any session on any replica; give them all the same
//! `--state-key` (64 hex digits or more) for stateless multi round-trip
//! requests.

use examples::{Cli, serve_http};
use switchboard_core::ServerConfig;

fn main() {
    examples::init_tracing();
    let args = Cli::from_env();
    let config = args
        .server_config(ServerConfig::default())
        .expect("checked by Cli::parse");
    if let Err(e) = serve_http(&args, examples::conformance::builder_with(config)) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
