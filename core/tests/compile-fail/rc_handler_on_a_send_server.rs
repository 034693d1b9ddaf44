//! A handler holding an `Rc` across `.await`, given to the `Send` server
//! (which may run it on a thread pool): refused at compile time.

use std::rc::Rc;

use switchboard_core::{McpServerBuilder, Tool};

fn main() {
    let count = Rc::new(0u64);
    let _ = McpServerBuilder::new().tool(Tool::new("count", "counts"), move |_: serde_json::Value, _ctx| {
        let count = Rc::clone(&count);
        async move { Ok(count.to_string()) }
    });
}
