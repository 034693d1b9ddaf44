// The test page's script, bundled by esbuild into bundle.js: the official
// MCP TypeScript SDK client, run in the browser against a Switchboard
// endpoint on another origin. Each function resolves to a report of the
// steps it ran, or rejects with the first step that failed.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";

function check(ok, what) {
  if (!ok) throw new Error(`step failed: ${what}`);
}

function within(ms, promise, what) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)),
  ]);
}

// Every step a browser client takes in a 2025-11-25 session, then a
// 2026-07-28 session-less call with fetch (the SDK speaks sessions only).
window.runMcp = async (url) => {
  const steps = [];
  const client = new Client({ name: "browser-page", version: "1.0.0" });
  let listChanged;
  const changed = new Promise((resolve) => (listChanged = resolve));
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => listChanged());
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    reconnectionOptions: {
      initialReconnectionDelay: 100,
      maxReconnectionDelay: 1000,
      reconnectionDelayGrowFactor: 1.5,
      maxRetries: 5,
    },
  });
  await within(10000, client.connect(transport), "initialize");
  check(client.getServerVersion()?.name, "initialize: server info");
  // The session id is only readable when the reply exposes it.
  check(transport.sessionId, "initialize: Mcp-Session-Id readable");
  steps.push("initialize");

  const { tools } = await within(10000, client.listTools(), "tools/list");
  check(tools.some((t) => t.name === "test_tool_with_progress"), "tools/list: the progress tool");
  steps.push("tools/list");

  const progress = [];
  const withProgress = await within(
    10000,
    client.callTool({ name: "test_tool_with_progress", arguments: {} }, undefined, {
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

  const reply = await fetch(url, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
      "MCP-Protocol-Version": "2026-07-28",
      "Mcp-Method": "tools/call",
      "Mcp-Name": "test_simple_text",
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 7,
      method: "tools/call",
      params: {
        name: "test_simple_text",
        arguments: {},
        _meta: {
          "io.modelcontextprotocol/protocolVersion": "2026-07-28",
          "io.modelcontextprotocol/clientCapabilities": {},
          "io.modelcontextprotocol/clientInfo": { name: "browser-page", version: "1.0.0" },
        },
      },
    }),
  });
  check(reply.status === 200, `session-less call: status ${reply.status}`);
  check(reply.headers.get("mcp-session-id") === null, "session-less call: no session");
  const text = await reply.text();
  const json = reply.headers.get("content-type").startsWith("text/event-stream")
    ? JSON.parse(text.split("\n").filter((l) => l.startsWith("data:") && l.length > 5).pop().slice(5))
    : JSON.parse(text);
  check(json.id === 7 && json.result?.content?.[0]?.type === "text", `session-less call: ${text}`);
  steps.push("2026-07-28 session-less call");
  return steps;
};

// From a foreign origin: the browser must refuse to let the page connect.
window.runForeign = async (url) => {
  const client = new Client({ name: "foreign-page", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  try {
    await within(10000, client.connect(transport), "initialize from a foreign origin");
  } catch (e) {
    return `refused: ${e.message}`;
  }
  throw new Error("a foreign page connected");
};
