//! Two servers sharing an `InProcessBus`, as two replicas would: a change
//! announced through one reaches the clients of the other, and each
//! server's clients hear it once.

use std::sync::Arc;

use serde_json::{Value, json};
use switchboard_core::{
    EventBus, InProcessBus, McpServer, McpServerBuilder, Resource, ServerConfig, memory_pair,
};
use tests::{TestClient, deadline};

fn replica(bus: &Arc<InProcessBus>, transport: switchboard_core::MemoryTransport) -> McpServer {
    McpServerBuilder::new()
        .server_info("replica", "1")
        .config(ServerConfig::default().list_changed(true))
        .text_resource(Resource::new("mem://status", "status"), "green")
        .event_bus(Arc::clone(bus) as Arc<dyn EventBus>)
        .build(transport)
}

fn is_notification(method: &'static str) -> impl Fn(&tests::Received) -> bool {
    move |r| r.json["method"] == method
}

#[test]
fn a_change_made_through_one_replica_reaches_the_clients_of_the_other() {
    futures::executor::block_on(async {
        let bus = Arc::new(InProcessBus::default());
        let (ta, ca) = memory_pair(16);
        let (tb, cb) = memory_pair(16);
        let a = replica(&bus, ta);
        let b = replica(&bus, tb);
        let (mut client_a, mut client_b) = (TestClient::new(ca), TestClient::new(cb));
        let script = async {
            client_a.initialize("on-a", "2025-11-25").await;
            client_b.initialize("on-b", "2025-11-25").await;
            // A round trip: `initialized` has been taken before the change.
            client_b.request("on-b", 1, "ping", json!({})).await;
            client_b.reply("on-b", 1).await;
            client_a
                .request(
                    "on-a",
                    1,
                    "resources/subscribe",
                    json!({"uri": "mem://status"}),
                )
                .await;
            assert!(client_a.reply("on-a", 1).await["result"].is_object());
            // Through B: A's subscriber hears of the update, B's client
            // (not subscribed) does not; the list change reaches both, once.
            b.notify_resource_updated("mem://status").await;
            b.notify_tools_changed().await;
            let updated = client_a
                .next_where(
                    "the update on A",
                    is_notification("notifications/resources/updated"),
                )
                .await;
            assert_eq!(updated.json["params"]["uri"], "mem://status");
            for client in [&mut client_a, &mut client_b] {
                client
                    .next_where(
                        "the list change",
                        is_notification("notifications/tools/list_changed"),
                    )
                    .await;
            }
            // A ping's reply comes after anything already sent: nothing else
            // arrived before it (no second copy, no update on B).
            for (client, session) in [(&mut client_a, "on-a"), (&mut client_b, "on-b")] {
                client.request(session, 9, "ping", json!({})).await;
                client.reply(session, 9).await;
                let stray: Vec<&Value> = client
                    .backlog()
                    .iter()
                    .map(|r| &r.json)
                    .filter(|j| {
                        j["method"]
                            .as_str()
                            .is_some_and(|m| m.starts_with("notifications/"))
                    })
                    .collect();
                assert!(stray.is_empty(), "{session}: {stray:?}");
            }
            client_a.raw().close();
            client_b.raw().close();
        };
        let (ra, rb, ()) = futures::join!(a.run(), b.run(), deadline("the script", script));
        ra.unwrap();
        rb.unwrap();
    });
}

#[test]
fn without_a_bus_a_change_stays_on_its_server() {
    futures::executor::block_on(async {
        let (ta, ca) = memory_pair(16);
        let (tb, cb) = memory_pair(16);
        let build = |t| {
            McpServerBuilder::new()
                .config(ServerConfig::default().list_changed(true))
                .build(t)
        };
        let (a, b) = (build(ta), build(tb));
        let (mut client_a, mut client_b) = (TestClient::new(ca), TestClient::new(cb));
        let script = async {
            client_a.initialize("on-a", "2025-11-25").await;
            client_b.initialize("on-b", "2025-11-25").await;
            // Round trips: both sessions' `initialized` were taken first.
            for (client, session) in [(&mut client_a, "on-a"), (&mut client_b, "on-b")] {
                client.request(session, 1, "ping", json!({})).await;
                client.reply(session, 1).await;
            }
            b.notify_tools_changed().await;
            client_b
                .next_where(
                    "the list change on B",
                    is_notification("notifications/tools/list_changed"),
                )
                .await;
            client_a.request("on-a", 9, "ping", json!({})).await;
            client_a.reply("on-a", 9).await;
            assert!(client_a.backlog().is_empty(), "{:?}", client_a.backlog());
            client_a.raw().close();
            client_b.raw().close();
        };
        let (ra, rb, ()) = futures::join!(a.run(), b.run(), deadline("the script", script));
        ra.unwrap();
        rb.unwrap();
    });
}
