//! A server with local handlers, moved to another thread (as a thread
//! pool's spawn would): refused at compile time.

use std::rc::Rc;

use switchboard_core::{McpServerBuilder, Tool, memory_pair};

fn main() {
    let (transport, _client) = memory_pair(4);
    let count = Rc::new(0u64);
    let server = McpServerBuilder::new()
        .local()
        .tool(Tool::new("count", "counts"), move |_: serde_json::Value, _ctx| {
            let count = Rc::clone(&count);
            async move { Ok(count.to_string()) }
        })
        .build(transport);
    std::thread::spawn(move || futures::executor::block_on(server.run()));
}
