//! The benchmark's `echo` server on rmcp, shared by its two binaries: the
//! session-era default (`echo-rmcp`) and the stateless mode
//! (`echo-rmcp-stateless`). Served by axum with TCP_NODELAY; prints
//! `listening on http://ADDR/mcp` once it accepts.

use std::io::Write;

use axum::serve::ListenerExt;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{schemars, tool, tool_router};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct EchoArgs {
    text: String,
}

#[derive(Clone, Default)]
struct Echo;

#[tool_router(server_handler)]
impl Echo {
    #[tool(name = "echo", description = "Echoes its text")]
    fn echo(&self, Parameters(EchoArgs { text }): Parameters<EchoArgs>) -> String {
        text
    }
}

/// Serves `echo` with `config` on the address given as the first argument
/// (default 127.0.0.1:8080), until killed.
pub fn serve(config: StreamableHttpServerConfig) -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let service =
            StreamableHttpService::new(|| Ok(Echo), LocalSessionManager::default().into(), config);
        let router = axum::Router::new().nest_service("/mcp", service);
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        println!("listening on http://{}/mcp", listener.local_addr()?);
        std::io::stdout().flush()?;
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, router).await
    })
}
