//! The benchmark's `echo` server on Switchboard and smol.
//!
//! ```text
//! echo-smol [ADDR]    # default 127.0.0.1:8080; prints `listening on http://ADDR/mcp`
//! ```

use std::io::Write;

fn main() -> std::io::Result<()> {
    // One executor on this thread: tasks, timers and I/O all here.
    let ex = std::sync::Arc::new(smol::Executor::new());
    let runtime = switchboard_smol::SmolRuntime::with_executor(ex.clone());
    smol::block_on(ex.run(async {
        let server = switchboard_smol::HttpServer::bind_with(
            echo_common::addr(),
            echo_common::builder(),
            echo_common::config(),
            runtime,
        )
        .await?;
        println!("listening on {}", server.url()?);
        std::io::stdout().flush()?;
        server.run().await.map_err(std::io::Error::other)
    }))
}
