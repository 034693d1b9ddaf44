// Drives Switchboard's 2025-11-25 experimental tasks with the TypeScript
// SDK 1.x client (its `client.experimental.tasks` API), against the `hello`
// example at the URL given as the first argument:
//
//   create a task-augmented call and poll it with tasks/get (count_to),
//   input through elicitation related to the task (ask_name),
//   the result with tasks/result, cancel a task, list the tasks.
//
// Prints one line per check and a last line `tasks-client: N passed`;
// exits 1 at the first mismatch, saying what it expected and what came.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CallToolResultSchema,
  CreateTaskResultSchema,
  ElicitRequestSchema,
  McpError,
  TaskStatusNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';

const RELATED = 'io.modelcontextprotocol/related-task';
const url = process.argv[2];
if (!url) {
  console.error('usage: node client.mjs http://HOST:PORT/mcp');
  process.exit(2);
}

let passed = 0;
function check(what, ok, detail) {
  if (!ok) {
    console.error(`tasks-client: FAILED: ${what}${detail === undefined ? '' : `: ${JSON.stringify(detail)}`}`);
    process.exit(1);
  }
  passed += 1;
  console.log(`ok: ${what}`);
}

// Any hang is a failure too.
const deadline = setTimeout(() => {
  console.error('tasks-client: FAILED: did not finish within 60 s');
  process.exit(1);
}, 60_000);

const client = new Client({ name: 'switchboard-tasks-client', version: '1.0.0' }, { capabilities: { elicitation: {} } });

// The elicitation a task asks for: answered, and checked for its task.
const elicited = [];
client.setRequestHandler(ElicitRequestSchema, async (request) => {
  elicited.push(request.params);
  return { action: 'accept', content: { name: 'Ada' } };
});
const statusNotes = [];
client.setNotificationHandler(TaskStatusNotificationSchema, (note) => {
  statusNotes.push(note.params);
});

await client.connect(new StreamableHTTPClientTransport(new URL(url)));
check('the session is at 2025-11-25', client.transport.protocolVersion === '2025-11-25', client.transport.protocolVersion);
const caps = client.getServerCapabilities();
check(
  'initialize declares tasks (list, cancel, tools/call)',
  caps?.tasks?.list && caps?.tasks?.cancel && caps?.tasks?.requests?.tools?.call,
  caps?.tasks,
);

const { tools } = await client.listTools();
const support = (name) => tools.find((t) => t.name === name)?.execution?.taskSupport;
check('tools/list: count_to is task-optional', support('count_to') === 'optional', support('count_to'));
check('tools/list: ask_name is task-optional', support('ask_name') === 'optional', support('ask_name'));
check('tools/list: echo has no taskSupport (forbidden)', support('echo') === undefined, support('echo'));

const taskOptions = { task: { ttl: 60_000 } };

// 1. Create and poll: callToolStream creates the task and polls tasks/get.
const seen = [];
for await (const message of client.experimental.tasks.callToolStream(
  { name: 'count_to', arguments: { to: 2 } },
  CallToolResultSchema,
  taskOptions,
)) {
  seen.push(message);
}
const created = seen.find((m) => m.type === 'taskCreated');
check('count_to: the call created a task', created?.task?.taskId && created.task.status === 'working', created);
const countId = created.task.taskId;
check('count_to: the task has ttl and pollInterval', created.task.ttl === 60_000 && created.task.pollInterval > 0, created.task);
const statuses = seen.filter((m) => m.type === 'taskStatus').map((m) => m.task.status);
check('count_to: tasks/get polled it working, then completed', statuses.includes('working') && statuses.at(-1) === 'completed', statuses);
const last = seen.at(-1);
check('count_to: the stream ends with the result', last.type === 'result' && last.result.content[0].text === 'counted to 2', last);
const polled = await client.experimental.tasks.getTask(countId);
check('tasks/get: completed, with its progress as statusMessage', polled.status === 'completed' && polled.statusMessage === 'counted to 2 of 2', polled);

// 2. tasks/result: the tool's result, with the related-task _meta.
const result = await client.experimental.tasks.getTaskResult(countId, CallToolResultSchema);
check('tasks/result: the result of the call', result.content[0].text === 'counted to 2', result);
check('tasks/result: related-task _meta names the task', result._meta?.[RELATED]?.taskId === countId, result._meta);

// 3. Input through elicitation: the task turns input_required, the client
// calls tasks/result, the server's elicitation comes related to the task.
const asked = [];
for await (const message of client.experimental.tasks.callToolStream({ name: 'ask_name', arguments: {} }, CallToolResultSchema, taskOptions)) {
  asked.push(message);
}
const askId = asked.find((m) => m.type === 'taskCreated')?.task?.taskId;
check('ask_name: the call created a task', typeof askId === 'string', asked);
const askStatuses = asked.filter((m) => m.type === 'taskStatus').map((m) => m.task.status);
check('ask_name: tasks/get saw input_required', askStatuses.includes('input_required'), askStatuses);
check('ask_name: one elicitation reached the client', elicited.length === 1, elicited);
check('ask_name: the elicitation carries the related-task _meta', elicited[0]?._meta?.[RELATED]?.taskId === askId, elicited[0]);
const greeted = asked.at(-1);
check('ask_name: the result uses the answer', greeted.type === 'result' && greeted.result.content[0].text === 'Hello, Ada!', greeted);
check('ask_name: the result carries the related-task _meta', greeted.result._meta?.[RELATED]?.taskId === askId, greeted.result);
const answered = await client.experimental.tasks.getTask(askId);
check('ask_name: completed after the answer', answered.status === 'completed', answered);

// 4. Cancel: a long count, created by hand, cancelled, then refused again.
const long = await client.request(
  { method: 'tools/call', params: { name: 'count_to', arguments: { to: 60 }, task: { ttl: 60_000 } } },
  CreateTaskResultSchema,
);
const longId = long.task.taskId;
check('count_to 60: created working', long.task.status === 'working', long);
const cancelled = await client.experimental.tasks.cancelTask(longId);
check('tasks/cancel: answers the task, cancelled', cancelled.taskId === longId && cancelled.status === 'cancelled', cancelled);
const after = await client.experimental.tasks.getTask(longId);
check('tasks/get after the cancel: cancelled', after.status === 'cancelled', after);
let refused;
try {
  await client.experimental.tasks.cancelTask(longId);
} catch (e) {
  refused = e;
}
check('tasks/cancel of a terminal task: -32602', refused instanceof McpError && refused.code === -32602, refused && { code: refused.code, message: refused.message });
let unknown;
try {
  await client.experimental.tasks.getTask('no-such-task');
} catch (e) {
  unknown = e;
}
check('tasks/get of an unknown task: -32602', unknown instanceof McpError && unknown.code === -32602, unknown && { code: unknown.code });

// 5. List: every task of this session, each a 2025-11-25 Task.
const listed = [];
let cursor;
for (let page = 0; page < 100; page++) {
  const { tasks, nextCursor } = await client.experimental.tasks.listTasks(cursor);
  listed.push(...tasks);
  if (!nextCursor) break;
  cursor = nextCursor;
}
const ids = listed.map((t) => t.taskId).sort();
check('tasks/list: the three tasks of this session', JSON.stringify(ids) === JSON.stringify([countId, askId, longId].sort()), ids);
check(
  'tasks/list: each entry is a Task (status, ttl, createdAt), no extension fields',
  listed.every((t) => t.status && 'ttl' in t && t.createdAt && !('ttlMs' in t) && !('resultType' in t)),
  listed,
);

// Optional on the wire: reported, not required.
console.log(`info: ${statusNotes.length} notifications/tasks/status received`);

await client.close();
clearTimeout(deadline);
console.log(`tasks-client: ${passed} passed`);
