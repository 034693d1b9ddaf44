//! The benchmark's `echo` server on smol on one thread, with `echo` as a
//! local (`!Send`-capable) handler: what the stand-in and its channel cost.
//!
//! ```text
//! echo-smol-local-handler [ADDR]    # default 127.0.0.1:8080; prints `listening on http://ADDR/mcp`
//! ```

use std::io::Write;

fn main() -> std::io::Result<()> {
    switchboard_smol::block_on_local(|runtime| async move {
        let (builder, handlers) = echo_common::local_builder().into_parts();
        let server = switchboard_smol::HttpServer::bind_with(
            echo_common::addr(),
            builder,
            echo_common::config(),
            runtime,
        )
        .await?;
        println!("listening on {}", server.url()?);
        std::io::stdout().flush()?;
        handlers.serve(server.run()).await.map_err(std::io::Error::other)
    })
}
