//! The benchmark's `echo` server on rmcp: its Streamable HTTP service with
//! sessions on (the default).
//!
//! ```text
//! echo-rmcp [ADDR]    # default 127.0.0.1:8080; prints `listening on http://ADDR/mcp`
//! ```

fn main() -> std::io::Result<()> {
    echo_rmcp::serve(Default::default())
}
