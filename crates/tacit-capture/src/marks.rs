//! Shell-integration marks, and the scanner that lifts them out of the byte
//! stream.
//!
//! The integration scripts print OSC 133-style sequences:
//!
//! ```text
//! ESC ] 133 ; C ; tacit=<nonce> ; cmd=<pct> ; cwd=<pct> BEL   command starts
//! ESC ] 133 ; D ; tacit=<nonce> ; exit=<n> BEL                command finished
//! ESC ] 133 ; A ; tacit=<nonce> ; cwd=<pct> BEL               prompt starts
//! ```
//!
//! The nonce is fresh for every session and lives only in a shell variable
//! and a private file, never in the environment, so a program that prints the
//! same sequences (a test suite, `cat` of a recording) cannot forge a command
//! boundary: its sequences lack the nonce and pass through as plain output.
//! Values are percent-encoded so they can hold `;`, ESC, BEL and newlines.
//!
//! Our own marks are removed from what reaches the user's terminal, so the
//! terminal sees exactly what it would have seen without tacit.

const PREFIX: &[u8] = b"\x1b]133;";
/// A genuine mark longer than this (a pasted script as a command line) is
/// still accepted; anything longer is treated as output so a stray prefix
/// cannot hold back the stream forever.
const MAX_MARK_LEN: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    PromptStart { cwd: Option<String> },
    CommandStart { command: String, cwd: String },
    CommandEnd { exit_code: Option<i32> },
}

/// A piece of the stream: bytes for the terminal, or one of our marks.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    Output(&'a [u8]),
    Mark(Mark),
}

/// Splits PTY output into plain output and marks. It holds back at most an
/// unfinished mark between calls, so a mark split across two reads is still
/// found.
pub struct MarkScanner {
    nonce_field: Vec<u8>,
    pending: Vec<u8>,
}

impl MarkScanner {
    pub fn new(nonce: &str) -> Self {
        MarkScanner {
            nonce_field: format!("tacit={nonce}").into_bytes(),
            pending: Vec::new(),
        }
    }

    /// Feeds `input`, calling `sink` for each piece in stream order.
    pub fn feed(&mut self, input: &[u8], sink: &mut dyn FnMut(Piece<'_>)) {
        if self.pending.is_empty() {
            let keep = self.scan(input, sink);
            self.pending.extend_from_slice(&input[keep..]);
        } else {
            let mut buf = std::mem::take(&mut self.pending);
            buf.extend_from_slice(input);
            let keep = self.scan(&buf, sink);
            self.pending = buf.split_off(keep);
        }
    }

    /// Releases whatever was held back (at end of stream).
    pub fn flush(&mut self, sink: &mut dyn FnMut(Piece<'_>)) {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            sink(Piece::Output(&rest));
        }
    }

    /// Emits everything it can and returns the index from which bytes must be
    /// held back for the next call.
    fn scan(&self, b: &[u8], sink: &mut dyn FnMut(Piece<'_>)) -> usize {
        let mut start = 0;
        let mut i = 0;
        while let Some(off) = memchr::memchr(0x1b, &b[i..]) {
            let p = i + off;
            match self.classify(&b[p..]) {
                Candidate::NotOurs => i = p + 1,
                Candidate::Incomplete => {
                    if p > start {
                        sink(Piece::Output(&b[start..p]));
                    }
                    return p;
                }
                Candidate::Mark(len, mark) => {
                    if p > start {
                        sink(Piece::Output(&b[start..p]));
                    }
                    if let Some(mark) = mark {
                        sink(Piece::Mark(mark));
                    }
                    start = p + len;
                    i = start;
                }
            }
        }
        if start < b.len() {
            sink(Piece::Output(&b[start..]));
        }
        b.len()
    }

    fn classify(&self, s: &[u8]) -> Candidate {
        let n = s.len().min(PREFIX.len());
        if s[..n] != PREFIX[..n] {
            return Candidate::NotOurs;
        }
        if s.len() < PREFIX.len() {
            return Candidate::Incomplete;
        }
        // After the prefix: one kind letter, ';', then our nonce field.
        let head = &s[PREFIX.len()..];
        let want = 2 + self.nonce_field.len();
        let have = head.len().min(want);
        if have >= 1 && !matches!(head[0], b'A' | b'C' | b'D') {
            return Candidate::NotOurs;
        }
        if have >= 2 && head[1] != b';' {
            return Candidate::NotOurs;
        }
        if have > 2 && head[2..have] != self.nonce_field[..have - 2] {
            return Candidate::NotOurs;
        }
        if head.len() < want {
            return Candidate::Incomplete;
        }
        // The nonce matches: this is ours. Find its terminator.
        let body_start = PREFIX.len();
        let limit = s.len().min(MAX_MARK_LEN);
        let mut j = body_start;
        while j < limit {
            match s[j] {
                0x07 => return Candidate::Mark(j + 1, parse_mark(&s[body_start..j])),
                0x1b if s.get(j + 1) == Some(&b'\\') => {
                    return Candidate::Mark(j + 2, parse_mark(&s[body_start..j]));
                }
                0x1b if j + 1 == s.len() => return Candidate::Incomplete,
                _ => j += 1,
            }
        }
        if s.len() >= MAX_MARK_LEN {
            Candidate::NotOurs
        } else {
            Candidate::Incomplete
        }
    }
}

enum Candidate {
    NotOurs,
    Incomplete,
    /// Length of the whole sequence, and the mark if its body parsed.
    Mark(usize, Option<Mark>),
}

fn parse_mark(body: &[u8]) -> Option<Mark> {
    let mut fields = body.split(|&c| c == b';');
    let kind = fields.next()?;
    let mut cmd = None;
    let mut cwd = None;
    let mut exit = None;
    for f in fields {
        let Some(eq) = f.iter().position(|&c| c == b'=') else {
            continue;
        };
        let (k, v) = (&f[..eq], &f[eq + 1..]);
        match k {
            b"cmd" => cmd = Some(percent_decode(v)),
            b"cwd" => cwd = Some(percent_decode(v)),
            b"exit" => {
                exit = std::str::from_utf8(v)
                    .ok()
                    .and_then(|s| s.trim().parse().ok())
            }
            _ => {}
        }
    }
    match kind {
        b"A" => Some(Mark::PromptStart { cwd }),
        b"C" => Some(Mark::CommandStart {
            command: cmd.unwrap_or_default(),
            cwd: cwd.unwrap_or_default(),
        }),
        b"D" => Some(Mark::CommandEnd { exit_code: exit }),
        _ => None,
    }
}

/// Decodes `%XX` escapes; invalid escapes are kept literally. Bytes that are
/// not UTF-8 become U+FFFD rather than failing the mark.
pub fn percent_decode(v: &[u8]) -> String {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'%' && i + 3 <= v.len() {
            let hex = std::str::from_utf8(&v[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(v[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The encoding the integration scripts apply, for tests and for tacit's own
/// PTY drivers.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '%' | ';' | '\x1b' | '\x07' | '\n' | '\r' => {
                let mut buf = [0u8; 4];
                for b in ch.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(scanner: &mut MarkScanner, chunks: &[&[u8]]) -> (Vec<u8>, Vec<Mark>) {
        let mut out = Vec::new();
        let mut marks = Vec::new();
        for c in chunks {
            scanner.feed(c, &mut |p| match p {
                Piece::Output(b) => out.extend_from_slice(b),
                Piece::Mark(m) => marks.push(m),
            });
        }
        scanner.flush(&mut |p| {
            if let Piece::Output(b) = p {
                out.extend_from_slice(b)
            }
        });
        (out, marks)
    }

    fn start_mark(nonce: &str, cmd: &str, cwd: &str) -> Vec<u8> {
        format!(
            "\x1b]133;C;tacit={nonce};cmd={};cwd={}\x07",
            percent_encode(cmd),
            percent_encode(cwd)
        )
        .into_bytes()
    }

    #[test]
    fn marks_are_lifted_out_and_output_passes_untouched() {
        let mut s = MarkScanner::new("n1");
        let mut stream = b"prompt$ ".to_vec();
        stream.extend(start_mark("n1", "echo 'a;b'\nx", "/tmp/a b"));
        stream.extend(b"hello\r\n\x1b[31mred\x1b[0m\r\n");
        stream.extend(b"\x1b]133;D;tacit=n1;exit=3\x1b\\");
        let (out, marks) = collect(&mut s, &[&stream]);
        assert_eq!(out, b"prompt$ hello\r\n\x1b[31mred\x1b[0m\r\n");
        assert_eq!(
            marks,
            vec![
                Mark::CommandStart {
                    command: "echo 'a;b'\nx".into(),
                    cwd: "/tmp/a b".into()
                },
                Mark::CommandEnd { exit_code: Some(3) }
            ]
        );
    }

    #[test]
    fn a_mark_split_at_every_byte_is_still_found() {
        let mut stream = b"out1".to_vec();
        stream.extend(start_mark("abc", "ls", "/"));
        stream.extend(b"out2\x1b]133;D;tacit=abc;exit=0\x07tail");
        for cut in 0..stream.len() {
            let mut s = MarkScanner::new("abc");
            let (out, marks) = collect(&mut s, &[&stream[..cut], &stream[cut..]]);
            assert_eq!(out, b"out1out2tail", "cut at {cut}");
            assert_eq!(marks.len(), 2, "cut at {cut}");
        }
    }

    #[test]
    fn forged_marks_without_the_nonce_stay_output() {
        let mut s = MarkScanner::new("secret");
        let forged = b"\x1b]133;D;exit=0\x07\x1b]133;D;tacit=guess;exit=0\x07\x1b]133;C\x07";
        let (out, marks) = collect(&mut s, &[forged]);
        assert!(marks.is_empty());
        assert_eq!(out, forged);
    }

    #[test]
    fn an_unterminated_prefix_is_released_at_flush() {
        let mut s = MarkScanner::new("n");
        let (out, marks) = collect(&mut s, &[b"x\x1b]133;D;tacit=n;exit=1"]);
        assert!(marks.is_empty());
        assert_eq!(out, b"x\x1b]133;D;tacit=n;exit=1");
    }

    #[test]
    fn percent_decoding_survives_bad_escapes_and_bad_utf8() {
        assert_eq!(percent_decode(b"a%3Bb%zz%"), "a;b%zz%");
        assert_eq!(percent_decode(b"%FF"), "\u{FFFD}");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_and_are_never_lost(
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
            cut in 0usize..512,
        ) {
            let mut s = MarkScanner::new("zz");
            let cut = cut.min(data.len());
            let (out, marks) = collect(&mut s, &[&data[..cut], &data[cut..]]);
            // Without the nonce nothing can be a mark, so every byte survives.
            proptest::prop_assert!(marks.is_empty());
            proptest::prop_assert_eq!(out, data);
        }
    }
}
