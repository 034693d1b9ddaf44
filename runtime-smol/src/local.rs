//! One thread: a `smol::LocalExecutor` driven by `smol::block_on`, with
//! async-io's reactor (whose helper thread is the process's second).

use std::future::Future;

use switchboard_core::BoxFuture;

use crate::{SmolRuntime, Spawner};

/// Runs `main` on a new `smol::LocalExecutor` on this thread, handing it a
/// [`SmolRuntime`] whose tasks (connections, requests, timers' wake-ups)
/// run on that executor too; returns what `main` returned. The tasks still
/// running then are dropped.
///
/// With a [`LocalServerBuilder`](switchboard_core::LocalServerBuilder)'s
/// handlers served inside `main` (`handlers.serve(server.run())`), the
/// whole server runs on this thread: handlers may hold `Rc` state, and
/// nothing crosses threads.
///
/// # Examples
///
/// ```no_run
/// use switchboard_core::{HttpConfig, McpServerBuilder};
/// use switchboard_smol::{HttpServer, block_on_local};
///
/// block_on_local(|runtime| async move {
///     let (builder, handlers) = McpServerBuilder::new().server_info("demo", "1.0.0").local().into_parts();
///     let addr = "127.0.0.1:0".parse().unwrap();
///     let server = HttpServer::bind_with(addr, builder, HttpConfig::default(), runtime).await?;
///     println!("listening on {}", server.url()?);
///     handlers.serve(server.run()).await.map_err(std::io::Error::other)
/// })
/// .unwrap();
/// ```
pub fn block_on_local<F, Fut>(main: F) -> Fut::Output
where
    F: FnOnce(SmolRuntime) -> Fut,
    Fut: Future,
{
    let executor = smol::LocalExecutor::new();
    let (tasks, spawned) = smol::channel::unbounded::<BoxFuture<()>>();
    let runtime = SmolRuntime {
        spawner: Spawner::Local(tasks),
    };
    smol::block_on(executor.run(async {
        let spawning = async {
            while let Ok(task) = spawned.recv().await {
                executor.spawn(task).detach();
            }
            // Every runtime handle is gone: only `main` is left to run.
            smol::future::pending().await
        };
        smol::future::or(main(runtime), spawning).await
    }))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use switchboard_core::Runtime;

    use super::block_on_local;

    /// Spawned tasks and timers run on the one thread that runs `main`.
    #[test]
    fn tasks_run_on_the_calling_thread() {
        let here = std::thread::current().id();
        let ran = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&ran);
        block_on_local(|runtime| async move {
            let (done, finished) = smol::channel::bounded(1);
            let sleeper = runtime.clone();
            runtime.spawn(Box::pin(async move {
                sleeper.sleep(Duration::from_millis(5)).await;
                assert_eq!(std::thread::current().id(), here);
                seen.fetch_add(1, Ordering::Relaxed);
                let _ = done.send(()).await;
            }));
            finished.recv().await.unwrap();
        });
        assert_eq!(ran.load(Ordering::Relaxed), 1);
    }
}
