// The test page's script for the 2.x SDK, bundled by esbuild into
// bundle-v2.js: the official MCP TypeScript SDK client, 2.x line
// (`@modelcontextprotocol/client`), run in the browser against a Switchboard
// endpoint on another origin. The same steps as page.js (the 1.x client);
// the differences are the 2.x API (notification handlers keyed by method
// name, callTool without a result schema) and the 2026-07-28 step, which
// the 2.x client speaks itself where the 1.x page writes it with fetch,
// plus one step more there: a 2026-07-28 call with progress. Each function
// resolves to a report of the steps it ran, or rejects with the first step
// that failed.
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";

function check(ok, what) {
  if (!ok) throw new Error(`step failed: ${what}`);
}

function within(ms, promise, what) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)),
  ]);
}

const reconnectionOptions = {
  initialReconnectionDelay: 100,
  maxReconnectionDelay: 1000,
  reconnectionDelayGrowFactor: 1.5,
  maxRetries: 5,
};

// Every step a browser client takes in a 2025-11-25 session (the 2.x
// client's default, `versionNegotiation` 'legacy'), then a 2026-07-28
// session-less connection negotiated by the same client.
window.runMcp = async (url) => {
  const steps = [];
  const client = new Client({ name: "browser-page-v2", version: "2.0.0" });
  let listChanged;
  const changed = new Promise((resolve) => (listChanged = resolve));
  client.setNotificationHandler("notifications/tools/list_changed", () => listChanged());
  const transport = new StreamableHTTPClientTransport(new URL(url), { reconnectionOptions });
  await within(10000, client.connect(transport), "initialize");
  check(client.getServerVersion()?.name, "initialize: server info");
  check(client.getProtocolEra() === "legacy", `initialize: era ${client.getProtocolEra()}`);
  check(
    client.getNegotiatedProtocolVersion() === "2025-11-25",
    `initialize: version ${client.getNegotiatedProtocolVersion()}`,
  );
  // The session id is only readable when the reply exposes it.
  check(transport.sessionId, "initialize: Mcp-Session-Id readable");
  steps.push("initialize");

  const { tools } = await within(10000, client.listTools(), "tools/list");
  check(tools.some((t) => t.name === "test_tool_with_progress"), "tools/list: the progress tool");
  steps.push("tools/list");

  const progress = [];
  const withProgress = await within(
    10000,
    client.callTool({ name: "test_tool_with_progress", arguments: {} }, {
      onprogress: (p) => progress.push(p.progress),
    }),
    "tools/call with progress",
  );
  check(withProgress.content[0].text.includes("progress"), "tools/call with progress: result");
  check(JSON.stringify(progress) === "[0,50,100]", `progress over SSE: ${JSON.stringify(progress)}`);
  steps.push("tools/call with progress over SSE");

  // The standalone GET stream opened after initialize carries the change.
  await within(10000, client.callTool({ name: "test_trigger_tool_change", arguments: {} }), "trigger");
  await within(10000, changed, "notifications/tools/list_changed on the GET stream");
  steps.push("notification on the GET stream");

  // The server closes the call's stream; the SDK resumes with Last-Event-ID.
  const resumed = await within(
    15000,
    client.callTool({ name: "test_reconnection", arguments: {} }),
    "tools/call resumed after its stream dropped",
  );
  check(resumed.content[0].text.includes("Reconnection"), "resumption: result");
  steps.push("resumption after the stream dropped");

  const session = transport.sessionId;
  await within(10000, transport.terminateSession(), "DELETE");
  check(transport.sessionId === undefined, "DELETE: session forgotten");
  const after = await fetch(url, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
      "Mcp-Session-Id": session,
      "MCP-Protocol-Version": "2025-11-25",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }),
  });
  check(after.status === 404, `DELETE: the session is gone (${after.status})`);
  steps.push("DELETE");
  await client.close();

  // 2026-07-28: where the 1.x page hand-writes the request with fetch, the
  // 2.x client negotiates the revision itself ('auto': a server/discover
  // probe, then per-request _meta and the Mcp-Method / Mcp-Name headers).
  const modern = new Client(
    { name: "browser-page-v2", version: "2.0.0" },
    { versionNegotiation: { mode: "auto" } },
  );
  const stateless = new StreamableHTTPClientTransport(new URL(url), { reconnectionOptions });
  await within(10000, modern.connect(stateless), "2026-07-28: server/discover");
  check(modern.getProtocolEra() === "modern", `2026-07-28: era ${modern.getProtocolEra()}`);
  check(
    modern.getNegotiatedProtocolVersion() === "2026-07-28",
    `2026-07-28: version ${modern.getNegotiatedProtocolVersion()}`,
  );
  const reply = await within(
    10000,
    modern.callTool({ name: "test_simple_text", arguments: {} }),
    "2026-07-28: tools/call",
  );
  check(reply.content?.[0]?.type === "text", `2026-07-28: result ${JSON.stringify(reply)}`);
  check(stateless.sessionId === undefined, `2026-07-28: no session (${stateless.sessionId})`);
  steps.push("2026-07-28 session-less call");

  // A step the 1.x page has not: progress on a 2026-07-28 call's own stream.
  const modernProgress = [];
  const withModernProgress = await within(
    10000,
    modern.callTool({ name: "test_tool_with_progress", arguments: {} }, {
      onprogress: (p) => modernProgress.push(p.progress),
    }),
    "2026-07-28: tools/call with progress",
  );
  check(withModernProgress.content[0].text.includes("progress"), "2026-07-28: progress tool result");
  check(
    JSON.stringify(modernProgress) === "[0,50,100]",
    `2026-07-28: progress over SSE: ${JSON.stringify(modernProgress)}`,
  );
  check(stateless.sessionId === undefined, `2026-07-28: still no session (${stateless.sessionId})`);
  steps.push("2026-07-28 tools/call with progress over SSE");
  await modern.close();
  return steps;
};

// From a foreign origin: the browser must refuse to let the page connect.
window.runForeign = async (url) => {
  const client = new Client({ name: "foreign-page-v2", version: "2.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  try {
    await within(10000, client.connect(transport), "initialize from a foreign origin");
  } catch (e) {
    return `refused: ${e.message}`;
  }
  throw new Error("a foreign page connected");
};
