//! One thread: a `smol::LocalExecutor` driven by `smol::block_on`, with
//! async-io's reactor (whose helper thread is the process's second).

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

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
    let executor = Rc::new(smol::LocalExecutor::new());
    let (tasks, spawned) = smol::channel::unbounded::<BoxFuture<()>>();
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let runtime = SmolRuntime {
        spawner: Spawner::Local(LocalSpawner { id, tasks }),
    };
    // Spawns from this thread (the engine's, nearly always) go straight to
    // the executor; the channel carries only those from other threads.
    let previous = CURRENT.with(|current| current.replace(Some((id, Rc::clone(&executor)))));
    let _restore = Restore(previous);
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

/// Where a [`SmolRuntime`] of [`block_on_local`] spawns: on its executor
/// when called on its thread, through `tasks` otherwise.
#[derive(Clone, Debug)]
pub(crate) struct LocalSpawner {
    /// Which `block_on_local` call this is.
    id: u64,
    /// The way in from other threads.
    tasks: smol::channel::Sender<BoxFuture<()>>,
}

impl LocalSpawner {
    /// Spawns `task` on the executor of this spawner's `block_on_local`.
    pub(crate) fn spawn(&self, task: BoxFuture<()>) {
        let direct = CURRENT.with(|current| match &*current.borrow() {
            Some((id, executor)) if *id == self.id => Some(Rc::clone(executor)),
            _ => None,
        });
        match direct {
            Some(executor) => executor.spawn(task).detach(),
            // Closed only once `block_on_local` returned: nothing runs then.
            None => drop(self.tasks.try_send(task)),
        }
    }
}

/// Numbers the calls of [`block_on_local`].
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// The executor of the `block_on_local` running on this thread, if any.
    static CURRENT: RefCell<Option<(u64, Rc<smol::LocalExecutor<'static>>)>> =
        const { RefCell::new(None) };
}

/// Puts back the thread's previous executor (a nested `block_on_local`'s
/// caller's) when `block_on_local` returns or unwinds.
struct Restore(Option<(u64, Rc<smol::LocalExecutor<'static>>)>);

impl Drop for Restore {
    fn drop(&mut self) {
        let previous = self.0.take();
        CURRENT.with(|current| *current.borrow_mut() = previous);
    }
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

    /// A task spawned from another thread comes in through the channel and
    /// runs on the executor's thread.
    #[test]
    fn a_spawn_from_another_thread_runs_here() {
        let here = std::thread::current().id();
        block_on_local(|runtime| async move {
            let (done, finished) = smol::channel::bounded(1);
            let remote = runtime.clone();
            std::thread::spawn(move || {
                remote.spawn(Box::pin(async move {
                    assert_eq!(std::thread::current().id(), here);
                    let _ = done.send(()).await;
                }));
            })
            .join()
            .unwrap();
            finished.recv().await.unwrap();
        });
    }
}
