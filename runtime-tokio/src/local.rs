//! One thread: a `current_thread` runtime and a `LocalSet`.

use std::future::Future;
use std::io;

use crate::TokioRuntime;

/// Runs `main` on a new `current_thread` tokio runtime, inside a
/// `LocalSet`, on this thread, handing it a [`TokioRuntime`] whose tasks
/// (connections, requests, timers) run on that same thread; returns what
/// `main` returned. The tasks still running then are dropped with the
/// runtime.
///
/// With a [`LocalServerBuilder`](switchboard_core::LocalServerBuilder)'s
/// handlers served inside `main` (`handlers.serve(server.run())`), the
/// whole server runs on this thread: handlers may hold `Rc` state and use
/// `tokio::task::spawn_local`.
///
/// # Errors
///
/// When the tokio runtime cannot be built.
///
/// # Examples
///
/// ```no_run
/// use switchboard_core::{HttpConfig, McpServerBuilder};
/// use switchboard_tokio::{HttpServer, block_on_local};
///
/// block_on_local(|runtime| async move {
///     let (builder, handlers) = McpServerBuilder::new().server_info("demo", "1.0.0").local().into_parts();
///     let addr = "127.0.0.1:0".parse().unwrap();
///     let server = HttpServer::bind_with(addr, builder, HttpConfig::default(), runtime).await?;
///     println!("listening on {}", server.url()?);
///     handlers.serve(server.run()).await.map_err(std::io::Error::other)
/// })
/// .unwrap()
/// .unwrap();
/// ```
pub fn block_on_local<F, Fut>(main: F) -> io::Result<Fut::Output>
where
    F: FnOnce(TokioRuntime) -> Fut,
    Fut: Future,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let runtime = TokioRuntime::from_handle(rt.handle().clone());
    let local = tokio::task::LocalSet::new();
    Ok(local.block_on(&rt, main(runtime)))
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;
    use std::time::Duration;

    use switchboard_core::Runtime;

    use super::block_on_local;

    /// Spawned tasks and timers run on the calling thread, and `!Send`
    /// work can be spawned beside them.
    #[test]
    fn tasks_run_on_the_calling_thread() {
        let here = std::thread::current().id();
        let local = Rc::new(Cell::new(0));
        let seen = Rc::clone(&local);
        block_on_local(|runtime| async move {
            let (done, finished) = tokio::sync::oneshot::channel();
            let sleeper = runtime.clone();
            runtime.spawn(Box::pin(async move {
                sleeper.sleep(Duration::from_millis(5)).await;
                assert_eq!(std::thread::current().id(), here);
                let _ = done.send(());
            }));
            finished.await.unwrap();
            tokio::task::spawn_local(async move { seen.set(1) })
                .await
                .unwrap();
        })
        .unwrap();
        assert_eq!(local.get(), 1);
    }
}
