//! The fixtures the official MCP conformance suite expects of a server
//! (built in [`examples::conformance`]).
//!
//! Run with:
//!
//! ```text
//! cargo run -p examples --bin conformance [-- --runtime smol|tokio --addr 127.0.0.1:8080]
//! ```
//!
//! `conformance/run.sh` starts it and runs the suite against it.

use examples::{Cli, serve_http};

fn main() {
    examples::init_tracing();
    let args = Cli::from_env();
    if let Err(e) = serve_http(&args, examples::conformance::builder()) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
