//! Per-command output: a bounded buffer of raw bytes, and its rendering into
//! the text a person saw on screen.
//!
//! Raw bytes are kept, not rendered, while the command runs: rendering costs
//! far more than copying, and doing it only once, at the end, keeps the hot
//! path (a `cat` of a large file) at full speed. Only the head and the tail
//! are kept, so memory stays bounded however much a command prints.

use std::num::NonZeroU16;

/// Keeps the first and last `cap / 2` bytes of a command's output.
#[derive(Debug)]
pub struct OutputBuffer {
    half: usize,
    head: Vec<u8>,
    tail: Vec<u8>,
    total: u64,
    alt_screen: bool,
    /// The end of the previous chunk when it held an ESC, so a switch to the
    /// alternate screen split across two reads is still seen.
    carry: Vec<u8>,
}

impl OutputBuffer {
    pub fn new(cap: usize) -> Self {
        OutputBuffer {
            half: (cap / 2).max(1),
            head: Vec::new(),
            tail: Vec::new(),
            total: 0,
            alt_screen: false,
            carry: Vec::new(),
        }
    }

    pub fn push(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len() as u64;
        if !self.alt_screen {
            self.watch_alt_screen(bytes);
        }
        if self.head.len() < self.half {
            let take = (self.half - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
        }
        if bytes.is_empty() {
            return;
        }
        if bytes.len() >= self.half {
            self.tail.clear();
            self.tail
                .extend_from_slice(&bytes[bytes.len() - self.half..]);
            return;
        }
        self.tail.extend_from_slice(bytes);
        // Trim lazily, once the tail has grown to twice its size, so the cost
        // of dropping old bytes is amortised over many pushes.
        if self.tail.len() >= 2 * self.half {
            let excess = self.tail.len() - self.half;
            self.tail.drain(..excess);
        }
    }

    fn watch_alt_screen(&mut self, bytes: &[u8]) {
        if !self.carry.is_empty() {
            let mut joined = std::mem::take(&mut self.carry);
            joined.extend_from_slice(&bytes[..bytes.len().min(ALT_SCREEN_MAX)]);
            if contains_alt_screen_switch(&joined) {
                self.alt_screen = true;
                return;
            }
        }
        if contains_alt_screen_switch(bytes) {
            self.alt_screen = true;
            return;
        }
        let tail = &bytes[bytes.len().saturating_sub(ALT_SCREEN_MAX - 1)..];
        if let Some(esc) = memchr::memrchr(0x1b, tail) {
            self.carry.extend_from_slice(&tail[esc..]);
        }
    }

    pub fn total_bytes(&self) -> u64 {
        self.total
    }

    pub fn used_alt_screen(&self) -> bool {
        self.alt_screen
    }

    /// Renders what the screen showed and reports how many raw bytes were
    /// left out. `cols` is the terminal width, so wrapping matches.
    pub fn render(&self, cols: u16) -> (String, u64) {
        let tail = if self.tail.len() > self.half {
            &self.tail[self.tail.len() - self.half..]
        } else {
            &self.tail[..]
        };
        let kept = (self.head.len() + tail.len()) as u64;
        let dropped = self.total.saturating_sub(kept);
        if dropped == 0 {
            let mut all = self.head.clone();
            all.extend_from_slice(tail);
            return (screen_text(&all, cols), 0);
        }
        let mut text = screen_text(&self.head, cols);
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&format!(
            "[… tacit: {dropped} bytes of output not kept …]\n"
        ));
        text.push_str(&screen_text(tail, cols));
        (text, dropped)
    }
}

const ALT_SCREEN_SWITCHES: [&[u8]; 3] = [b"\x1b[?1049h", b"\x1b[?1047h", b"\x1b[?47h"];
const ALT_SCREEN_MAX: usize = 8;

/// One pass over the ESC bytes only: this runs on every chunk of output.
fn contains_alt_screen_switch(bytes: &[u8]) -> bool {
    memchr::memchr_iter(0x1b, bytes).any(|i| {
        ALT_SCREEN_SWITCHES
            .iter()
            .any(|s| bytes[i..].starts_with(s))
    })
}

/// Collects rows as they scroll off the top of the main screen.
#[derive(Default)]
struct Scrolled {
    text: String,
    state: vt100::capture::BasicFormattedCaptureState,
    cols: usize,
    rows: usize,
    /// The last scrolled row filled the width: it most likely wrapped onto
    /// the next row, which then continues it without a line break.
    last_row_full: bool,
}

impl vt100::Callbacks for Scrolled {
    fn on_scroll(&mut self, row: vt100::capture::RowContents<'_>, alternate_screen: bool) {
        if alternate_screen {
            return;
        }
        let mut formatted = String::new();
        if row
            .write_formatted_basic(&mut formatted, &mut self.state)
            .is_ok()
        {
            let plain: String = vt100::capture::basic_formatted_to_plain(&formatted).collect();
            self.last_row_full = plain.trim_start_matches('\n').chars().count() >= self.cols;
            self.rows += 1;
            self.text.push_str(&plain);
        }
    }
}

const SCREEN_ROWS: u16 = 24;

/// Resolves escape codes, `\r`, backspaces and cursor moves into plain text,
/// the way a terminal of width `cols` would show it. Full-screen programs draw
/// on the alternate screen, which is left out.
pub fn screen_text(bytes: &[u8], cols: u16) -> String {
    if bytes.is_empty() {
        return String::new();
    }
    // vt100 panics on sizes under 2; clamp so no caller can reach that.
    let cols = NonZeroU16::new(cols.max(2)).unwrap_or(NonZeroU16::MIN);
    let rows = NonZeroU16::new(SCREEN_ROWS).unwrap_or(NonZeroU16::MIN);
    let scrolled = Scrolled {
        cols: usize::from(cols.get()),
        ..Scrolled::default()
    };
    let mut parser = vt100::Parser::new_with_callbacks(rows, cols, 0, scrolled);
    // A terminal shows bytes that are not UTF-8 as U+FFFD, but the parser
    // drops U+FFFD, hiding that something was there. Pass it through as a
    // private-use stand-in and turn it back afterwards.
    let lossy = String::from_utf8_lossy(bytes);
    if lossy.contains('\u{FFFD}') {
        parser.process(lossy.replace('\u{FFFD}', REPLACEMENT_STAND_IN).as_bytes());
    } else {
        parser.process(lossy.as_bytes());
    }
    // Leave a full-screen program that did not switch back, so its screen is
    // not mistaken for output.
    if parser.screen().alternate_screen() {
        parser.process(b"\x1b[?1049l");
    }
    let visible = parser.screen().contents();
    let scrolled = parser.callbacks();
    let mut text = String::with_capacity(scrolled.text.len() + visible.len() + 1);
    text.push_str(&scrolled.text);
    // The capture state holds back the line break after the last scrolled
    // row; add it unless that row wrapped onto the screen.
    if scrolled.rows > 0 && !scrolled.last_row_full {
        text.push('\n');
    }
    text.push_str(&visible);
    let trimmed_len = text.trim_end().len();
    text.truncate(trimmed_len);
    if text.contains(REPLACEMENT_STAND_IN) {
        text = text.replace(REPLACEMENT_STAND_IN, "\u{FFFD}");
    }
    text
}

const REPLACEMENT_STAND_IN: &str = "\u{E000}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carriage_return_progress_bars_resolve_to_their_last_frame() {
        let raw = b"building... 20%\rbuilding... 40%\rbuilding... 100%\r\nbuilt x\r\n";
        assert_eq!(screen_text(raw, 80), "building... 100%\nbuilt x");
    }

    #[test]
    fn backspaces_and_colours_resolve() {
        assert_eq!(
            screen_text(b"abc\x08\x08XY \x1b[1;31mred\x1b[0m", 80),
            "aXY red"
        );
    }

    #[test]
    fn lines_that_scroll_off_the_screen_are_kept_in_order() {
        let raw: String = (1..=100).map(|i| format!("line {i}\r\n")).collect();
        let text = screen_text(raw.as_bytes(), 80);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 100);
        assert_eq!(lines[0], "line 1");
        assert_eq!(lines[99], "line 100");
    }

    #[test]
    fn blank_lines_at_the_scroll_boundary_are_kept() {
        let mut raw = b"a\r\n".to_vec();
        raw.extend(std::iter::repeat_n(b"\r\n".as_slice(), 30).flatten());
        raw.extend(b"b");
        let text = screen_text(&raw, 80);
        assert_eq!(text.lines().count(), 32, "{text:?}");
        assert!(text.starts_with("a\n") && text.ends_with("\nb"));
    }

    #[test]
    fn a_long_line_wrapping_across_the_scroll_boundary_stays_one_line() {
        let mut raw: Vec<u8> = Vec::new();
        for i in 0..40 {
            raw.extend(format!("line {i}\r\n").as_bytes());
        }
        raw.extend(std::iter::repeat_n(b'x', 200));
        let text = screen_text(&raw, 80);
        assert!(text.ends_with(&"x".repeat(200)), "{text:?}");
    }

    #[test]
    fn alternate_screen_content_is_not_output() {
        let raw = b"before\r\n\x1b[?1049h\x1b[2J\x1b[Hvim screen\x1b[?1049lafter";
        let text = screen_text(raw, 80);
        assert!(!text.contains("vim screen"), "{text:?}");
        assert!(
            text.contains("before") && text.contains("after"),
            "{text:?}"
        );
    }

    #[test]
    fn invalid_utf8_shows_as_replacement_characters() {
        assert_eq!(
            screen_text(b"bad \xff\xfe ok", 80),
            "bad \u{FFFD}\u{FFFD} ok"
        );
    }

    #[test]
    fn tiny_widths_do_not_panic() {
        assert_eq!(screen_text(b"ab", 0), "ab");
    }

    #[test]
    fn the_buffer_keeps_head_and_tail_and_counts_the_rest() {
        let mut buf = OutputBuffer::new(20);
        for i in 0..1000 {
            buf.push(format!("{i:04}\r\n").as_bytes());
        }
        let (text, dropped) = buf.render(80);
        assert_eq!(buf.total_bytes(), 6000);
        assert_eq!(dropped, 6000 - 20);
        assert!(text.starts_with("0000\n0001\n[…"), "{text}");
        assert!(text.ends_with("0999"), "{text}");
        assert!(text.contains("5980 bytes of output not kept"), "{text}");
    }

    #[test]
    fn an_alternate_screen_switch_split_across_reads_is_seen() {
        let switch = b"\x1b[?1049h";
        for cut in 1..switch.len() {
            let mut buf = OutputBuffer::new(1024);
            buf.push(b"text");
            buf.push(&switch[..cut]);
            buf.push(&switch[cut..]);
            assert!(buf.used_alt_screen(), "cut at {cut}");
        }
        let mut plain = OutputBuffer::new(1024);
        plain.push(b"\x1b[31mred\x1b[0m \x1b[?25h");
        assert!(!plain.used_alt_screen());
    }

    #[test]
    fn one_huge_push_keeps_its_last_bytes() {
        let mut buf = OutputBuffer::new(10);
        let mut big = vec![b'a'; 100];
        big.extend_from_slice(b"ZZZZZ");
        buf.push(&big);
        let (text, dropped) = buf.render(80);
        assert_eq!(dropped, 95);
        assert!(
            text.ends_with("aaaaaZZZZZ") || text.ends_with("ZZZZZ"),
            "{text}"
        );
    }
}
