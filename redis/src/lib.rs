//! Redis for Switchboard, written once for every executor: [`RedisBus`],
//! the core's [`EventBus`] over Redis pub/sub, [`RedisTaskStore`], the core's
//! task store in Redis (tasks on every replica), and [`RedisSessionStore`],
//! the core's session store in Redis (any replica serves any session).
//!
//! This crate does not accept connections or spawn tasks, and it names no
//! executor: its waits (reconnection backoff, timeouts) go through the core's
//! [`Runtime`] trait, and the `redis` crate's connections run on the executor
//! chosen by this crate's `smol` or `tokio` feature. Most code does not use it
//! directly: the adapters' `redis` features turn it on and re-export a
//! `RedisBus` whose `connect(url, channel)` brings the adapter's timer
//! (`switchboard_smol::RedisBus`, `switchboard_tokio::RedisBus`).
//!
//! ```text
//! replica A ── publish(change) ──▶ link ── PUBLISH channel <json> ──▶ Redis
//! replica B ◀── Change stream ◀── listener ◀── SUBSCRIBE channel ◀───┘
//!                                   (reconnects: backoff via Runtime::sleep)
//! ```
//!
//! All commands to Redis go through one private connection layer (a
//! multiplexed connection reopened on failure, every wait bounded); each
//! subscription (the bus's channel, the session store's letters, the task
//! store's signals) has a connection of its own, and the session store
//! writes its letters and stream logs from one writer task.
//!
//! # Examples
//!
//! ```no_run
//! use std::sync::Arc;
//! use switchboard_core::{Change, EventBus};
//! use switchboard_redis::RedisBus;
//! use switchboard_smol::SmolRuntime;
//!
//! smol::block_on(async {
//!     let runtime = Arc::new(SmolRuntime::global());
//!     let bus = RedisBus::connect_on(runtime, "redis://127.0.0.1:6379/", "mcp-changes")
//!         .await
//!         .expect("Redis is up");
//!     let _changes = bus.subscribe();
//!     let change = Change::ResourceUpdated { uri: "notes://1".into() };
//!     bus.publish(&change).await.unwrap();
//! });
//! ```
//!
//! [`EventBus`]: switchboard_core::EventBus
//! [`Runtime`]: switchboard_core::Runtime
#![forbid(unsafe_code)]

mod backoff;
mod bus;
mod link;
mod sessions;
mod tasks;
#[cfg(test)]
mod test_server;

pub use bus::RedisBus;
pub use sessions::{RedisSessionStore, SESSION_PREFIX, WRITE_QUEUE};
pub use tasks::{DEFAULT_LEASE, DEFAULT_PREFIX, LEASE_LAPSED, RedisTaskStore};
