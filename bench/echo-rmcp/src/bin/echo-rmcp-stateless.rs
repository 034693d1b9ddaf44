//! The benchmark's `echo` server on rmcp in its stateless mode: no legacy
//! sessions, JSON replies where the handler sends nothing before its result
//! (rmcp serves 2026-07-28 requests statelessly in either mode; this is the
//! configuration its tests use for stateless deployments).
//!
//! ```text
//! echo-rmcp-stateless [ADDR]    # default 127.0.0.1:8080; prints `listening on http://ADDR/mcp`
//! ```

use rmcp::transport::streamable_http_server::StreamableHttpServerConfig;

fn main() -> std::io::Result<()> {
    echo_rmcp::serve(
        StreamableHttpServerConfig::default()
            .with_legacy_session_mode(false)
            .with_json_response(true),
    )
}
