//! A server whose state is not `Send`: the `count` tool keeps its counter in
//! an `Rc<RefCell<u64>>` and answers the new value.
//!
//! Run with:
//!
//! ```text
//! cargo run -p examples --bin counter [-- --runtime smol|tokio|smol-local|tokio-local --addr 127.0.0.1:8080]
//! cargo run -p examples --bin counter -- --stdio
//! ```
//!
//! The handler runs on the thread that serves, whatever the runtime: on
//! `smol-local` and `tokio-local` everything does; on `tokio` the engine's
//! tasks run on the workers and reach the handler through a channel.

use std::cell::RefCell;
use std::rc::Rc;

use examples::{Cli, RuntimeChoice, block_on, serve_http_local};
use switchboard_core::{LocalServerBuilder, McpServerBuilder, Tool};

/// The counter server, with its counter at zero.
fn counter() -> LocalServerBuilder {
    let count = Rc::new(RefCell::new(0u64));
    McpServerBuilder::new()
        .server_info("counter", env!("CARGO_PKG_VERSION"))
        .local()
        .tool(
            Tool::new("count", "Adds one to the counter and answers its new value"),
            move |_: serde_json::Value, _ctx| {
                let count = Rc::clone(&count);
                async move {
                    let mut n = count.borrow_mut();
                    *n += 1;
                    Ok(n.to_string())
                }
            },
        )
}

fn main() {
    examples::init_tracing();
    let args = Cli::from_env();
    let result = if args.stdio {
        block_on(args.runtime, |runtime| async move {
            let (builder, handlers) = counter().into_parts();
            let builder = builder.runtime(runtime);
            match args.runtime {
                RuntimeChoice::Smol | RuntimeChoice::SmolLocal => {
                    handlers
                        .serve(builder.build(switchboard_smol::stdio()).run())
                        .await
                }
                RuntimeChoice::Tokio | RuntimeChoice::TokioLocal => {
                    handlers
                        .serve(builder.build(switchboard_tokio::stdio()).run())
                        .await
                }
            }
        })
        .map_err(Into::into)
    } else {
        serve_http_local(&args, counter())
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
