//! A notes server: notes kept in memory, with tools to add, list, search
//! and delete them, each note listed as a `notes://{id}` resource, and a
//! `summarise` prompt.
//!
//! Run with:
//!
//! ```text
//! cargo run -p examples --bin notes [-- --runtime smol|tokio --addr 127.0.0.1:8080]
//! cargo run -p examples --bin notes -- --stdio
//! ```
//!
//! Over HTTP it prints `listening on http://HOST:PORT/mcp`. To try it with
//! MCP Inspector, run `npx @modelcontextprotocol/inspector`, choose the
//! transport "Streamable HTTP" and connect to `http://127.0.0.1:8080/mcp`.
//!
//! Or with curl: `initialize` (`-i` shows the `Mcp-Session-Id` header to
//! send from then on), `notifications/initialized`, then calls:
//!
//! ```text
//! URL=http://127.0.0.1:8080/mcp
//! H=(-H 'Accept: application/json, text/event-stream' -H 'Content-Type: application/json')
//! curl -i "${H[@]}" $URL -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":
//!   {"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}'
//! S=(-H 'Mcp-Session-Id: <from the response>' -H 'MCP-Protocol-Version: 2025-11-25')
//! curl "${H[@]}" "${S[@]}" $URL -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'
//! curl "${H[@]}" "${S[@]}" $URL -d '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":
//!   {"name":"add_note","arguments":{"title":"Groceries","body":"eggs, milk","tags":["home"]}}}'
//! ```
//!
//! `curl -N -H 'Accept: text/event-stream' "${S[@]}" $URL` keeps a stream
//! open on which `notifications/resources/list_changed` arrives as notes
//! come and go.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use examples::{Cli, serve_http};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use switchboard_core::{
    Args, Content, GetPromptResult, Json, McpServerBuilder, Prompt, PromptMessage,
    ReadResourceResult, RequestContext, Resource, ResourceContents, ResourceTemplate, RpcError,
    ServerConfig, Tool, ToolError,
};

#[derive(Clone, Serialize, JsonSchema)]
struct Note {
    id: u64,
    title: String,
    body: String,
    tags: Vec<String>,
}

impl Note {
    fn uri(&self) -> String {
        format!("notes://{}", self.id)
    }

    fn tagged(&self, tag: Option<&str>) -> bool {
        tag.is_none_or(|tag| self.tags.iter().any(|t| t == tag))
    }

    fn markdown(&self) -> String {
        let mut text = format!("# {}\n\n{}\n", self.title, self.body);
        if !self.tags.is_empty() {
            text += &format!("\ntags: {}\n", self.tags.join(", "));
        }
        text
    }
}

#[derive(Serialize, JsonSchema)]
struct NoteSummary {
    id: u64,
    title: String,
    tags: Vec<String>,
}

#[derive(Default)]
struct Book {
    last_id: u64,
    notes: BTreeMap<u64, Note>,
}

/// The server's state.
#[derive(Default)]
struct Notes {
    book: Mutex<Book>,
}

impl Notes {
    /// Every change to the book is a single insert or remove, so a lock
    /// poisoned by a panic elsewhere still guards a whole book.
    fn book(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Deserialize, JsonSchema)]
struct AddArgs {
    /// A short title.
    title: String,
    /// The note itself (Markdown).
    body: String,
    /// Labels to find the note by.
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize, JsonSchema)]
struct TagFilter {
    /// Only notes with this tag; every note when absent.
    tag: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
struct SearchArgs {
    /// Text to look for in titles and bodies, ignoring case.
    query: String,
}

#[derive(Deserialize, JsonSchema)]
struct NoteId {
    /// The note's id, as `add_note` returned it.
    id: u64,
}

/// Reads note `id` as the resource `uri`; a missing note is answered as the
/// server answers any missing resource: `-32602` with `data.uri`.
fn read_note(ctx: &RequestContext, uri: String, id: u64) -> Result<ReadResourceResult, RpcError> {
    let Some(text) = ctx
        .state::<Notes>()?
        .book()
        .notes
        .get(&id)
        .map(Note::markdown)
    else {
        return Err(
            RpcError::invalid_params(format!("no note {id}")).with_data(json!({"uri": uri}))
        );
    };
    Ok(ReadResourceResult::new(vec![ResourceContents::text(
        uri,
        "text/markdown",
        text,
    )]))
}

/// Builds the `notes` server.
fn notes() -> McpServerBuilder {
    McpServerBuilder::new()
        .server_info("notes", env!("CARGO_PKG_VERSION"))
        // The resource list changes as notes are added and deleted.
        .config(ServerConfig::default().list_changed(true))
        .state(Notes::default())
        .tool(
            Tool::new("add_note", "Saves a note and returns it with its id"),
            |Args(a): Args<AddArgs>, ctx| async move {
                let notes = ctx.state::<Notes>()?;
                let note = {
                    let mut book = notes.book();
                    book.last_id += 1;
                    let note = Note {
                        id: book.last_id,
                        title: a.title,
                        body: a.body,
                        tags: a.tags,
                    };
                    book.notes.insert(note.id, note.clone());
                    note
                };
                // The running server lists and unlists notes as resources.
                if let Some(server) = ctx.server() {
                    let id = note.id;
                    let listing = Resource::new(note.uri(), format!("note-{id}"))
                        .title(&note.title)
                        .mime_type("text/markdown");
                    // Sends notifications/resources/list_changed itself.
                    server
                        .add_resource(
                            listing,
                            move |uri, ctx| async move { read_note(&ctx, uri, id) },
                        )
                        .await;
                }
                Ok(Json(note))
            },
        )
        .tool(
            Tool::new("list_notes", "Lists the notes, optionally by tag"),
            |Args(f): Args<TagFilter>, ctx| async move {
                let book = ctx.state::<Notes>()?.book();
                let summaries: Vec<NoteSummary> = book
                    .notes
                    .values()
                    .filter(|n| n.tagged(f.tag.as_deref()))
                    .map(|n| NoteSummary {
                        id: n.id,
                        title: n.title.clone(),
                        tags: n.tags.clone(),
                    })
                    .collect();
                Ok(Json(summaries))
            },
        )
        .tool(
            Tool::new("search_notes", "Finds notes that mention `query`"),
            |Args(s): Args<SearchArgs>, ctx| async move {
                let query = s.query.to_lowercase();
                let book = ctx.state::<Notes>()?.book();
                let found: Vec<Note> = book
                    .notes
                    .values()
                    .filter(|n| {
                        n.title.to_lowercase().contains(&query)
                            || n.body.to_lowercase().contains(&query)
                    })
                    .cloned()
                    .collect();
                Ok(Json(found))
            },
        )
        .tool(
            Tool::new("delete_note", "Deletes the note with this id"),
            |Args(NoteId { id }): Args<NoteId>, ctx| async move {
                let notes = ctx.state::<Notes>()?;
                // An unknown id is the model's mistake to read and fix.
                let note = notes
                    .book()
                    .notes
                    .remove(&id)
                    .ok_or_else(|| ToolError::new(format!("no note {id}")))?;
                if let Some(server) = ctx.server() {
                    server.remove_resource(&note.uri()).await;
                }
                Ok(format!("deleted note {id} ({})", note.title))
            },
        )
        // Shows clients the URI shape, and answers a URI no longer listed (a
        // deleted note, kept by a client) with the missing-resource error.
        .resource_template(
            ResourceTemplate::new("notes://{id}", "note")
                .description("A note as Markdown, by id")
                .mime_type("text/markdown"),
            |uri, Args(NoteId { id }): Args<NoteId>, ctx| async move { read_note(&ctx, uri, id) },
        )
        .prompt(
            Prompt::new("summarise", "Asks for a summary of the notes"),
            |Args(f): Args<TagFilter>, ctx| async move {
                let text: Vec<String> = ctx
                    .state::<Notes>()?
                    .book()
                    .notes
                    .values()
                    .filter(|n| n.tagged(f.tag.as_deref()))
                    .map(Note::markdown)
                    .collect();
                if text.is_empty() {
                    return Err(RpcError::invalid_params("no notes to summarise"));
                }
                let ask = format!(
                    "Please summarise these notes in a few bullet points:\n\n{}",
                    text.join("\n---\n\n")
                );
                Ok(GetPromptResult::new(vec![PromptMessage::user(
                    Content::text(ask),
                )]))
            },
        )
}

fn main() {
    examples::init_tracing();
    let args = Cli::from_env();
    let builder = notes();
    let result = if args.stdio {
        examples::serve_stdio(args.runtime, builder).map_err(Into::into)
    } else {
        serve_http(&args, builder)
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
