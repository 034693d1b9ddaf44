//! The benchmark's `echo` server on Switchboard and tokio on one thread: a
//! `current_thread` runtime with a `LocalSet` (`switchboard_tokio::block_on_local`).
//!
//! ```text
//! echo-tokio-local [ADDR]    # default 127.0.0.1:8080; prints `listening on http://ADDR/mcp`
//! ```

use std::io::Write;

fn main() -> std::io::Result<()> {
    switchboard_tokio::block_on_local(|runtime| async move {
        let server = switchboard_tokio::HttpServer::bind_with(
            echo_common::addr(),
            echo_common::builder(),
            echo_common::config(),
            runtime,
        )
        .await?;
        println!("listening on {}", server.url()?);
        std::io::stdout().flush()?;
        server.run().await.map_err(std::io::Error::other)
    })?
}
