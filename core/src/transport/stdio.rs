//! Newline-delimited JSON over any byte stream (stdin/stdout, pipes, sockets).
//!
//! One message per line, as MCP's stdio transport specifies: the reader
//! splits on `\n` (a `\r` before it is dropped, blank lines are skipped),
//! the writer appends `\n` to each message. Messages never contain a raw
//! newline, since JSON escapes it in strings. Lines are bounded
//! ([`DEFAULT_MAX_LINE_LEN`]), and the bytes read but not yet split stay in
//! the reader's buffer, so a cancelled `receive` loses nothing.

use std::fmt;

use async_trait::async_trait;
use futures::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::{Inbound, Outbound, Route, Transport, TransportError};
use crate::id::SessionId;

/// Default longest line accepted: 4 MiB. A bound, so that a peer that never
/// sends a newline cannot make the reader buffer without end.
pub const DEFAULT_MAX_LINE_LEN: usize = 4 * 1024 * 1024;

/// Newline-delimited JSON-RPC over a reader and a writer; one session named
/// `"stdio"`.
///
/// An over-long line is discarded up to its newline and reported as
/// [`Inbound::TooLarge`], after which reading goes on.
///
/// The session exists once the client's `initialize` line arrives; the
/// transport itself knows nothing of it. End of input ends the transport
/// ([`TransportError::Closed`] from `receive`), and with it
/// [`McpServer::run`](crate::McpServer::run), once the requests in flight
/// have been answered. `R` and `W` are `futures::io` types: wrap a tokio
/// stream in its `compat` adapter, a smol one as it is.
///
/// # Examples
///
/// A server run over a script of lines, writing its replies to a buffer:
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use futures::io::{AllowStdIo, Cursor};
/// use serde_json::Value;
/// use switchboard_core::{CallToolResult, McpServerBuilder, StdioTransport, Tool};
///
/// /// A writer whose bytes the example reads back.
/// #[derive(Clone, Default)]
/// struct Shared(Arc<Mutex<Vec<u8>>>);
///
/// impl std::io::Write for Shared {
///     fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
///         self.0.lock().unwrap().write(buf)
///     }
///     fn flush(&mut self) -> std::io::Result<()> {
///         Ok(())
///     }
/// }
///
/// let input = concat!(
///     r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":"#,
///     r#"{"protocolVersion":"2025-11-25","capabilities":{},"#,
///     r#""clientInfo":{"name":"c","version":"1"}}}"#,
///     "\n",
///     r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"hi"}}"#,
///     "\n",
/// );
/// let output = Shared::default();
/// let transport = StdioTransport::new(
///     Cursor::new(input.as_bytes().to_vec()),
///     AllowStdIo::new(output.clone()),
/// );
/// let server = McpServerBuilder::new()
///     .tool(Tool::new("hi", "Says hi"), |_: Value, _ctx| async {
///         Ok(CallToolResult::text("hi"))
///     })
///     .build(transport);
/// // The end of the input ends the run.
/// futures::executor::block_on(server.run()).unwrap();
///
/// let written = String::from_utf8(output.0.lock().unwrap().clone()).unwrap();
/// let replies: Vec<Value> = written.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
/// let call = replies.iter().find(|r| r["id"] == 2).unwrap();
/// assert_eq!(call["result"]["content"][0]["text"], "hi");
/// ```
pub struct StdioTransport<R, W> {
    /// The input, behind an async lock: `receive` takes `&self`, and one
    /// reader at a time keeps lines whole.
    reader: async_lock::Mutex<LineReader<R>>,
    /// The output, behind an async lock so that concurrent sends write
    /// whole lines, one after another.
    writer: async_lock::Mutex<LineWriter<W>>,
    /// `"stdio"`: every message is in this one session.
    session: SessionId,
}

impl<R, W> fmt::Debug for StdioTransport<R, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StdioTransport")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

/// What the reader found next.
enum Line {
    /// A line without its terminator, at most `max` bytes, not blank.
    Complete(Vec<u8>),
    /// A line over `max` bytes; reported once, its bytes dropped.
    TooLong,
}

/// Splits a byte stream into lines, keeping what it read until a line is
/// complete.
struct LineReader<R> {
    /// The byte stream.
    inner: R,
    /// Bytes read but not yet returned; at most about `max` plus one read,
    /// since a longer line is dropped as it comes.
    buf: Vec<u8>,
    /// Bytes of `buf` already searched for a newline.
    scanned: usize,
    /// Inside an over-long line: drop bytes up to the next newline.
    discarding: bool,
    /// The stream returned 0 bytes: what is left in `buf` is the last line.
    eof: bool,
    /// The longest line accepted, in bytes, terminator excluded.
    max: usize,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    /// Returns the next non-empty line without its terminator.
    ///
    /// A last line without a newline counts once the stream ends. Lines of
    /// only whitespace are skipped.
    ///
    /// Cancel safe: every byte read is kept in `buf` before the next await.
    ///
    /// # Errors
    ///
    /// [`TransportError::Closed`] at the end of the stream (and on every
    /// call after); [`TransportError::Io`] when reading fails.
    async fn next_line(&mut self) -> Result<Line, TransportError> {
        loop {
            if let Some(pos) = self.buf[self.scanned..].iter().position(|&b| b == b'\n') {
                let end = self.scanned + pos;
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                self.scanned = 0;
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if std::mem::take(&mut self.discarding) || line.iter().all(u8::is_ascii_whitespace)
                {
                    continue;
                }
                // A long line that arrived with its newline in one read is
                // too long all the same.
                if line.len() > self.max {
                    return Ok(Line::TooLong);
                }
                return Ok(Line::Complete(line));
            }
            self.scanned = self.buf.len();
            if self.discarding {
                self.buf.clear();
                self.scanned = 0;
            } else if self.buf.len() > self.max {
                self.discarding = true;
                self.buf.clear();
                self.scanned = 0;
                return Ok(Line::TooLong);
            }
            if self.eof {
                if self.buf.iter().all(u8::is_ascii_whitespace) || self.discarding {
                    return Err(TransportError::Closed);
                }
                self.scanned = 0;
                let line = std::mem::take(&mut self.buf);
                if line.len() > self.max {
                    return Ok(Line::TooLong);
                }
                return Ok(Line::Complete(line));
            }
            let mut chunk = [0u8; 8192];
            let n = self.inner.read(&mut chunk).await?;
            if n == 0 {
                self.eof = true;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// The writing half: the writer and the bytes queued for it that are not
/// written yet. Bytes leave the queue only once written, so a send that is
/// dropped half way leaves the rest of its line for the next one.
struct LineWriter<W> {
    inner: W,
    unwritten: Vec<u8>,
}

impl<W: AsyncWrite + Unpin> LineWriter<W> {
    /// Writes the queue out. Cancel safe: each write removes exactly what
    /// it wrote.
    async fn write_unwritten(&mut self) -> Result<(), TransportError> {
        while !self.unwritten.is_empty() {
            let n = self.inner.write(&self.unwritten).await?;
            if n == 0 {
                return Err(TransportError::Io(std::io::ErrorKind::WriteZero.into()));
            }
            self.unwritten.drain(..n);
        }
        Ok(())
    }
}

impl<R, W> StdioTransport<R, W>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    /// Wraps a reader and a writer with the default line limit
    /// ([`DEFAULT_MAX_LINE_LEN`]). Reads nothing until the first `receive`.
    pub fn new(reader: R, writer: W) -> Self {
        Self::with_max_line_len(reader, writer, DEFAULT_MAX_LINE_LEN)
    }

    /// Wraps a reader and a writer, accepting lines of at most `max` bytes
    /// (the terminator not counted).
    ///
    /// A longer line is dropped and answered with a `-32600` error whose id
    /// is `null`; the reader buffers at most about `max` bytes of it.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::io::{AllowStdIo, Cursor};
    /// use switchboard_core::{Inbound, StdioTransport, Transport};
    ///
    /// let mut input = vec![b'x'; 100];
    /// input.extend_from_slice(b"\n{}\n");
    /// let transport = StdioTransport::with_max_line_len(
    ///     Cursor::new(input),
    ///     AllowStdIo::new(std::io::sink()),
    ///     64,
    /// );
    /// futures::executor::block_on(async {
    ///     let first = transport.receive().await.unwrap();
    ///     assert!(matches!(first, Inbound::TooLarge { limit: 64, .. }));
    ///     // Reading goes on with the next line.
    ///     let second = transport.receive().await.unwrap();
    ///     assert!(matches!(second, Inbound::Message { bytes, .. } if bytes == b"{}"));
    /// });
    /// ```
    pub fn with_max_line_len(reader: R, writer: W, max: usize) -> Self {
        Self {
            reader: async_lock::Mutex::new(LineReader {
                inner: reader,
                buf: Vec::new(),
                scanned: 0,
                discarding: false,
                eof: false,
                max,
            }),
            writer: async_lock::Mutex::new(LineWriter {
                inner: writer,
                unwritten: Vec::new(),
            }),
            session: SessionId::new("stdio"),
        }
    }
}

#[async_trait]
impl<R, W> Transport for StdioTransport<R, W>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    /// Reads the next line as a message of session `"stdio"`, or
    /// [`Inbound::TooLarge`] for an over-long one.
    ///
    /// Cancel safe: a dropped call keeps what it read for the next one.
    async fn receive(&self) -> Result<Inbound, TransportError> {
        let mut reader = self.reader.lock().await;
        let line = reader.next_line().await?;
        let session = self.session.clone();
        Ok(match line {
            Line::Complete(bytes) => Inbound::Message { session, bytes },
            Line::TooLong => Inbound::TooLarge {
                session,
                limit: reader.max,
            },
        })
    }

    /// Writes the message as one line and flushes it. Routes that carry no
    /// message ([`Route::Disconnect`], [`Route::Cancelled`]) are ignored:
    /// stdio has no streams to end.
    ///
    /// Cancel safe: the line is queued whole before anything is written, and
    /// what a dropped send had not written yet is written by the next send
    /// (or `close`) before its own line, so lines never interleave.
    async fn send(&self, message: Outbound) -> Result<(), TransportError> {
        if matches!(message.route, Route::Disconnect(_) | Route::Cancelled(_)) {
            return Ok(());
        }
        let mut writer = self.writer.lock().await;
        writer.unwritten.extend_from_slice(&message.bytes);
        writer.unwritten.push(b'\n');
        writer.write_unwritten().await?;
        writer.inner.flush().await?;
        Ok(())
    }

    /// Flushes and closes the writer (the server's stdout, say). The reader
    /// is left alone: `receive` ends when the input does.
    async fn close(&self) -> Result<(), TransportError> {
        let mut writer = self.writer.lock().await;
        writer.write_unwritten().await?;
        writer.inner.close().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use futures::io::Cursor;

    fn lines(input: &[u8], max: usize) -> Vec<Result<Vec<u8>, usize>> {
        let t = StdioTransport::with_max_line_len(Cursor::new(input.to_vec()), Vec::new(), max);
        let mut out = Vec::new();
        block_on(async {
            loop {
                match t.receive().await {
                    Ok(Inbound::Message { bytes, .. }) => out.push(Ok(bytes)),
                    Ok(Inbound::TooLarge { limit, .. }) => out.push(Err(limit)),
                    Ok(_) => unreachable!(),
                    Err(TransportError::Closed) => break,
                    Err(e) => panic!("{e}"),
                }
            }
        });
        out
    }

    #[test]
    fn splits_lines_and_skips_blank_ones() {
        let got = lines(b"a\r\n\n  \nbb\nlast", 10);
        assert_eq!(
            got,
            vec![Ok(b"a".to_vec()), Ok(b"bb".to_vec()), Ok(b"last".to_vec())]
        );
    }

    #[test]
    fn an_overlong_line_read_whole_with_its_newline_is_refused() {
        // The whole input arrives in one read, newline included: the limit
        // still applies (it used to be checked only while a line was
        // incomplete).
        let mut input = vec![b'x'; 150];
        input.extend_from_slice(b"\nok\n");
        assert_eq!(lines(&input, 100), vec![Err(100), Ok(b"ok".to_vec())]);
        assert_eq!(
            lines(&[b'y'; 101], 100),
            vec![Err(100)],
            "and at end of input"
        );
        assert_eq!(lines(&[b'z'; 100], 100), vec![Ok(vec![b'z'; 100])]);
    }

    #[test]
    fn overlong_line_is_reported_once_then_reading_goes_on() {
        let mut input = vec![b'x'; 20_000];
        input.extend_from_slice(b"\nok\n");
        let got = lines(&input, 100);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], Err(100));
        assert_eq!(got[1], Ok(b"ok".to_vec()));
    }

    /// A writer that takes four bytes per write and is not ready every
    /// other time (it wakes itself), recording what it was given.
    struct Trickle {
        out: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
        stall: bool,
    }

    impl AsyncWrite for Trickle {
        fn poll_write(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            let stall = self.stall;
            self.stall = !stall;
            if stall {
                cx.waker().wake_by_ref();
                return std::task::Poll::Pending;
            }
            let n = buf.len().min(4);
            self.out.lock().unwrap().extend_from_slice(&buf[..n]);
            std::task::Poll::Ready(Ok(n))
        }
        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
        fn poll_close(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
    }

    #[test]
    fn a_send_dropped_half_way_leaves_its_line_whole_for_the_next() {
        use futures::FutureExt;
        let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let writer = Trickle {
            out: std::sync::Arc::clone(&out),
            stall: false,
        };
        let t = StdioTransport::new(Cursor::new(Vec::new()), writer);
        let message = |text: &str| Outbound {
            session: SessionId::new("stdio"),
            route: Route::Unrelated,
            bytes: text.as_bytes().to_vec(),
        };
        // Polled once: four bytes go out, then the writer is not ready and
        // the send is dropped (its handler was cancelled, say).
        assert!(t.send(message("abcdefgh")).now_or_never().is_none());
        assert_eq!(&*out.lock().unwrap(), b"abcd");
        block_on(t.send(message("xyz"))).unwrap();
        assert_eq!(&*out.lock().unwrap(), b"abcdefgh\nxyz\n");
    }
}
