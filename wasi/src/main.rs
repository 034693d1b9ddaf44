//! The `hello` server's tools and resource over stdio, on `switchboard-core`
//! alone: no runtime crate, core without default features, and
//! [`block_on_pool`] for an executor. Built for `wasm32-wasip1`:
//!
//! ```text
//! scripts/build-wasi.sh            # prints the .wasm path last
//! wasmtime target/wasm32-wasip1/release/hello-wasi.wasm
//! ```
//!
//! It builds and runs on a host too (`cargo run -p switchboard-wasi`). At
//! the end of its input it answers every request still in flight, then
//! exits 0; an I/O error on stdin or stdout exits 1.
#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::sync::Arc;

use futures::io::AllowStdIo;
use switchboard_core::{StdioTransport, block_on_pool};

mod hello;

fn main() -> ExitCode {
    let served = block_on_pool(|runtime| async move {
        // Stdin is read by the pool when nothing else can run (see
        // `PoolRuntime::reader`); stdout is written in place, a line at a
        // time, and flushed after each.
        let transport = StdioTransport::new(
            runtime.reader(std::io::stdin()),
            AllowStdIo::new(std::io::stdout()),
        );
        hello::builder()
            .runtime(Arc::new(runtime))
            .build(transport)
            .run()
            .await
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("hello-wasi: {error}");
            ExitCode::FAILURE
        }
    }
}
