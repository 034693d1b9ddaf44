//! The benchmark's `echo` server on Switchboard and tokio (multi-threaded: one worker per allowed core).
//!
//! ```text
//! echo-tokio [ADDR]    # default 127.0.0.1:8080; prints `listening on http://ADDR/mcp`
//! ```

use std::io::Write;

fn main() -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let server = switchboard_tokio::HttpServer::bind(
            echo_common::addr(),
            echo_common::builder(),
            echo_common::config(),
        )
        .await?;
        println!("listening on {}", server.url()?);
        std::io::stdout().flush()?;
        server.run().await.map_err(std::io::Error::other)
    })
}
