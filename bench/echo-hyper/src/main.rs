//! The benchmark's `echo` server through hyper: switchboard-tokio's
//! `McpService` on hyper-util's auto builder (HTTP/1.1 and h2c), tokio
//! multi-threaded (one worker per allowed core).
//!
//! ```text
//! echo-hyper [ADDR]    # default 127.0.0.1:8080; prints `listening on http://ADDR/mcp`
//! ```

use std::io::Write;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;

fn main() -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mcp = switchboard_tokio::McpService::new(echo_common::builder(), echo_common::config())
            .map_err(std::io::Error::other)?;
        let listener = tokio::net::TcpListener::bind(echo_common::addr()).await?;
        println!("listening on http://{}/mcp", listener.local_addr()?);
        std::io::stdout().flush()?;
        let http = auto::Builder::new(TokioExecutor::new());
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let conn = http
                .serve_connection(TokioIo::new(stream), mcp.clone())
                .into_owned();
            tokio::spawn(async move { drop(conn.await) });
        }
    })
}
