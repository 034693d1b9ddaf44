//! Task tools that both eras' task tests serve: `count` (optional; counts
//! to `to`, 20 ms a step, with progress), `forever` (optional; waits a
//! minute, and says when its handler is dropped) and `plain` (sync only).
//! Each test file adds the tools its era needs (how input is asked, what
//! fails how).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;
use switchboard_core::tasks::TaskSupport;
use switchboard_core::{Args, CallToolResult, McpServerBuilder, RequestContext, Tool};

/// `count`'s arguments.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct CountArgs {
    /// How far to count.
    pub to: u32,
}

/// Set when a `forever` handler is dropped (cancelled).
#[derive(Clone, Debug, Default)]
pub struct Dropped(Arc<AtomicBool>);

impl Dropped {
    /// A `forever` handler has been dropped.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Sets its flag when dropped (with the handler that holds it).
struct Guard(Dropped);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.0.store(true, Ordering::SeqCst);
    }
}

/// Sleeps `ms` on the server's runtime.
pub async fn nap(ctx: &RequestContext, ms: u64) {
    if let Some(rt) = ctx.runtime() {
        rt.sleep(Duration::from_millis(ms)).await;
    }
}

/// `builder` with `count`, `forever` (which sets `dropped` when its handler
/// is dropped) and `plain`.
pub fn common_tools(builder: McpServerBuilder, dropped: &Dropped) -> McpServerBuilder {
    let dropped = dropped.clone();
    builder
        .task_tool(
            Tool::new("count", "Counts"),
            TaskSupport::Optional,
            |Args(a): Args<CountArgs>, ctx| async move {
                for n in 1..=a.to {
                    nap(&ctx, 20).await;
                    ctx.progress(f64::from(n), Some(f64::from(a.to)), None)
                        .await?;
                }
                Ok(format!("counted to {}", a.to))
            },
        )
        .task_tool(
            Tool::new("forever", "Waits a minute"),
            TaskSupport::Optional,
            move |_: Value, ctx| {
                let guard = Guard(dropped.clone());
                async move {
                    let _guard = guard;
                    nap(&ctx, 60_000).await;
                    Ok(CallToolResult::text("woke"))
                }
            },
        )
        .tool(
            Tool::new("plain", "Sync only"),
            |_: Value, _ctx| async move { Ok(CallToolResult::text("plain")) },
        )
}
