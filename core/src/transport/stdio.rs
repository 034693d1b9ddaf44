//! Newline-delimited JSON over any byte stream (stdin/stdout, pipes, sockets).

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
pub struct StdioTransport<R, W> {
    reader: async_lock::Mutex<LineReader<R>>,
    writer: async_lock::Mutex<W>,
    session: SessionId,
}

impl<R, W> fmt::Debug for StdioTransport<R, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StdioTransport")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

enum Line {
    Complete(Vec<u8>),
    TooLong,
}

struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Bytes of `buf` already searched for a newline.
    scanned: usize,
    /// Inside an over-long line: drop bytes up to the next newline.
    discarding: bool,
    eof: bool,
    max: usize,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    /// Returns the next non-empty line without its terminator.
    ///
    /// Cancel safe: every byte read is kept in `buf` before the next await.
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

impl<R, W> StdioTransport<R, W>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    /// Wraps a reader and a writer with the default line limit.
    pub fn new(reader: R, writer: W) -> Self {
        Self::with_max_line_len(reader, writer, DEFAULT_MAX_LINE_LEN)
    }

    /// Wraps a reader and a writer, accepting lines of at most `max` bytes.
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
            writer: async_lock::Mutex::new(writer),
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

    async fn send(&self, message: Outbound) -> Result<(), TransportError> {
        if matches!(message.route, Route::Disconnect(_) | Route::Cancelled(_)) {
            return Ok(());
        }
        let mut line = message.bytes;
        line.push(b'\n');
        let mut writer = self.writer.lock().await;
        writer.write_all(&line).await?;
        writer.flush().await?;
        Ok(())
    }

    async fn close(&self) -> Result<(), TransportError> {
        self.writer.lock().await.close().await?;
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
}
