//! Where one shell command ends and the next begins in a block of script.
//!
//! Runbooks write commands that span lines: heredocs, `\` continuations,
//! quoted newlines, pipelines broken after `|`, `for`/`if`/`case` blocks and
//! `{ … }` groups. Taking each line as a command breaks every one of them
//! (and left `tacit run` waiting on an open quote), so a block is split only
//! where the shell itself would run what it has read. This is a lexer, not a
//! parser: it tracks quotes, heredocs, nesting and continuations, which is
//! all that deciding "is this command finished?" needs.

/// A block split into commands.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Split {
    /// Complete commands, each possibly spanning lines; comment-only lines
    /// are commands of their own, so nothing written is lost.
    pub commands: Vec<String>,
    /// The 0-based line where a command starts that never ends (an open
    /// quote, heredoc or block), and what is open. That command is still
    /// the last in `commands`.
    pub unterminated: Option<(usize, &'static str)>,
}

/// Splits a script into commands. `fish` switches block keywords to fish's
/// (`if … end`); quotes and continuations are the same.
pub fn split_commands(script: &str, fish: bool) -> Split {
    let mut out = Split::default();
    let mut lexer = Lexer::new(fish);
    let mut current: Vec<&str> = Vec::new();
    let mut start = 0;
    for (i, line) in script.lines().enumerate() {
        if current.is_empty() {
            if line.trim().is_empty() {
                continue;
            }
            start = i;
        }
        current.push(line);
        lexer.line(line);
        if lexer.complete() {
            out.commands.push(current.join("\n").trim_end().to_string());
            current.clear();
            lexer = Lexer::new(fish);
        }
    }
    if !current.is_empty() {
        let joined = current.join("\n").trim_end().to_string();
        if !joined.trim().is_empty() {
            out.unterminated = Some((start, lexer.what_is_open()));
            out.commands.push(joined);
        }
    }
    out
}

/// Whether the shell would run `command` as it is, without waiting for more
/// input (a closing quote, the end of a heredoc or block).
pub fn is_complete(command: &str) -> bool {
    let mut lexer = Lexer::new(false);
    for line in command.lines() {
        lexer.line(line);
    }
    lexer.complete()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    Single,
    Double,
    /// `$'…'`: backslash escapes, closed by `'`.
    Ansi,
    Backtick,
}

struct Lexer {
    fish: bool,
    quote: Option<Quote>,
    /// Heredoc delimiters still to be read: (word, strip leading tabs).
    pending_heredocs: Vec<(String, bool)>,
    /// The heredoc whose body is being read.
    in_heredoc: Option<(String, bool)>,
    /// Open `if`/`for`/`while`/`case`/`{` blocks.
    blocks: usize,
    /// Open `(` and `$(`.
    parens: usize,
    /// The last line ended with `\`, `|`, `&&` or `||`.
    continued: bool,
}

impl Lexer {
    fn new(fish: bool) -> Lexer {
        Lexer {
            fish,
            quote: None,
            pending_heredocs: Vec::new(),
            in_heredoc: None,
            blocks: 0,
            parens: 0,
            continued: false,
        }
    }

    fn complete(&self) -> bool {
        self.quote.is_none()
            && self.pending_heredocs.is_empty()
            && self.in_heredoc.is_none()
            && self.blocks == 0
            && self.parens == 0
            && !self.continued
    }

    fn what_is_open(&self) -> &'static str {
        if self.in_heredoc.is_some() || !self.pending_heredocs.is_empty() {
            "a heredoc without its end line"
        } else if self.quote.is_some() {
            "an open quote"
        } else if self.blocks > 0 {
            "a block without its closing keyword"
        } else if self.parens > 0 {
            "an open parenthesis"
        } else {
            "a line continued past the end"
        }
    }

    fn line(&mut self, line: &str) {
        if let Some((word, strip)) = &self.in_heredoc {
            let candidate = if *strip {
                line.trim_start_matches('\t')
            } else {
                line
            };
            if candidate == word || candidate.trim_end() == word {
                self.in_heredoc = None;
                self.start_next_heredoc();
            }
            return;
        }
        self.continued = false;
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        let mut word = String::new();
        let mut at_command = self.quote.is_none();
        // The last significant character outside quotes and comments.
        let mut last_sig: Option<char> = None;
        let mut last_two = String::new();
        while i < chars.len() {
            let c = chars[i];
            match self.quote {
                Some(Quote::Single) => {
                    if c == '\'' {
                        self.quote = None;
                    }
                    i += 1;
                    continue;
                }
                Some(Quote::Ansi) => {
                    if c == '\\' {
                        i += 2;
                        continue;
                    }
                    if c == '\'' {
                        self.quote = None;
                    }
                    i += 1;
                    continue;
                }
                Some(Quote::Double) | Some(Quote::Backtick) => {
                    let close = if self.quote == Some(Quote::Double) {
                        '"'
                    } else {
                        '`'
                    };
                    if c == '\\' {
                        if i + 1 == chars.len() {
                            // A quoted string continued on the next line.
                            break;
                        }
                        i += 2;
                        continue;
                    }
                    if c == close {
                        self.quote = None;
                        last_sig = Some(c);
                    }
                    i += 1;
                    continue;
                }
                None => {}
            }
            if c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | ')' | '<' | '>') {
                self.end_word(&mut word, &mut at_command);
            }
            match c {
                '\\' => {
                    if i + 1 == chars.len() {
                        self.continued = true;
                        return;
                    }
                    word.push(c);
                    word.push(chars[i + 1]);
                    i += 2;
                    last_sig = Some('x');
                    continue;
                }
                '#' if word.is_empty() => break, // a comment to the end of the line
                '\'' => {
                    self.quote = Some(if word.ends_with('$') {
                        Quote::Ansi
                    } else {
                        Quote::Single
                    });
                    word.push(c);
                }
                '"' => {
                    self.quote = Some(Quote::Double);
                    word.push(c);
                }
                '`' => {
                    self.quote = Some(Quote::Backtick);
                    word.push(c);
                }
                '(' => {
                    // `$(`, a subshell, or `name()`: all closed by `)`.
                    self.parens += 1;
                    at_command = true;
                }
                ')' => {
                    // In a `case` pattern `a)` has no opening parenthesis.
                    self.parens = self.parens.saturating_sub(1);
                    at_command = true;
                }
                ';' | '&' | '|' => at_command = true,
                '<' if chars.get(i + 1) == Some(&'<') && chars.get(i + 2) == Some(&'<') => {
                    // A here-string, not a heredoc.
                    i += 3;
                    last_sig = Some('x');
                    continue;
                }
                '<' if !self.fish
                    && chars.get(i + 1) == Some(&'<')
                    && chars.get(i + 2) != Some(&'<') =>
                {
                    if let Some(len) = placeholder_len(&chars[i..]) {
                        // tacit's `<<name>>` parameter, not a heredoc.
                        word.extend(&chars[i..i + len]);
                        i += len;
                        last_sig = Some('x');
                        continue;
                    }
                    let mut j = i + 2;
                    let strip = chars.get(j) == Some(&'-');
                    if strip {
                        j += 1;
                    }
                    while chars.get(j).is_some_and(|c| *c == ' ' || *c == '\t') {
                        j += 1;
                    }
                    let (delim, end) = heredoc_word(&chars, j);
                    if !delim.is_empty() {
                        self.pending_heredocs.push((delim, strip));
                    }
                    i = end;
                    last_sig = Some('x');
                    continue;
                }
                c if c.is_whitespace() => {}
                _ => word.push(c),
            }
            if !c.is_whitespace() {
                last_two.push(c);
                if last_two.chars().count() > 2 {
                    last_two.remove(0);
                }
                last_sig = Some(c);
            }
            i += 1;
        }
        if self.quote.is_none() {
            self.end_word(&mut word, &mut at_command);
        }
        if self.quote == Some(Quote::Double) || self.quote == Some(Quote::Backtick) {
            return;
        }
        if self.quote.is_none() && matches!(last_sig, Some('|')) {
            // `cmd |`, `a ||`: the pipeline goes on; `&&` too.
            self.continued = true;
        }
        if self.quote.is_none() && last_two == "&&" {
            self.continued = true;
        }
        self.start_next_heredoc();
    }

    fn start_next_heredoc(&mut self) {
        if self.in_heredoc.is_none() && !self.pending_heredocs.is_empty() {
            self.in_heredoc = Some(self.pending_heredocs.remove(0));
        }
    }

    fn end_word(&mut self, word: &mut String, at_command: &mut bool) {
        if word.is_empty() {
            return;
        }
        if *at_command {
            let w = word.as_str();
            let (opens, closes, keeps_command): (&[&str], &[&str], &[&str]) = if self.fish {
                (
                    &["if", "for", "while", "function", "begin", "switch"],
                    &["end"],
                    &["else", "and", "or", "not", "case"],
                )
            } else {
                (
                    &["if", "for", "while", "until", "select", "case", "{"],
                    &["fi", "done", "esac", "}"],
                    &["then", "do", "else", "elif", "!", "time"],
                )
            };
            if opens.contains(&w) {
                self.blocks += 1;
                // `for x in …`, `case $x in`: the next words are not commands.
                *at_command = matches!(w, "if" | "while" | "until" | "{" | "begin" | "not");
            } else if closes.contains(&w) {
                self.blocks = self.blocks.saturating_sub(1);
                *at_command = false;
            } else {
                *at_command = keeps_command.contains(&w);
            }
        }
        word.clear();
    }
}

/// The length of a `<<name>>` placeholder at the start of `chars`.
fn placeholder_len(chars: &[char]) -> Option<usize> {
    let name = chars.get(2..)?;
    let n = name
        .iter()
        .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || **c == '_')
        .count();
    let ok = n > 0
        && name[0].is_ascii_lowercase()
        && name.get(n) == Some(&'>')
        && name.get(n + 1) == Some(&'>');
    ok.then_some(n + 4)
}

/// The heredoc delimiter starting at `from`, unquoted, and where it ends.
fn heredoc_word(chars: &[char], from: usize) -> (String, usize) {
    let mut j = from;
    let mut word = String::new();
    while let Some(&c) = chars.get(j) {
        match c {
            '\'' | '"' => {
                let close = c;
                j += 1;
                while let Some(&d) = chars.get(j) {
                    j += 1;
                    if d == close {
                        break;
                    }
                    word.push(d);
                }
                continue;
            }
            '\\' => {}
            c if c.is_whitespace() || matches!(c, ';' | '&' | '|' | '<' | '>' | ')' | '(') => {
                break;
            }
            c => word.push(c),
        }
        j += 1;
    }
    (word, j)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<String> {
        let got = split_commands(s, false);
        assert_eq!(got.unterminated, None, "{s:?}");
        got.commands
    }

    #[test]
    fn one_line_commands_stay_apart() {
        assert_eq!(
            split("ls -l\n\necho hi # greet\n"),
            vec!["ls -l", "echo hi # greet"]
        );
    }

    #[test]
    fn multi_line_commands_stay_whole() {
        let cases: &[(&str, usize)] = &[
            ("cat <<EOF > /tmp/x\none\ntwo\nEOF\necho done", 2),
            ("cat <<-'END'\n\tone $x\n\tEND\nls", 2),
            (
                "kubectl apply -f - <<EOF\napiVersion: v1\nkind: ConfigMap\nEOF",
                1,
            ),
            ("echo \"one\ntwo\"\nls", 2),
            ("echo 'it\nspans'\nls", 2),
            ("docker run \\\n  --rm \\\n  alpine true\nls", 2),
            ("for h in a b c; do\n  ssh $h uptime\ndone\nls", 2),
            ("if [ -f x ]; then\n  echo yes\nelse\n  echo no\nfi", 1),
            ("while read l; do\n  echo $l\ndone < file", 1),
            ("case $1 in\n  start) go ;;\n  stop) halt ;;\nesac\nls", 2),
            ("{\n  echo a\n  echo b\n} > out.txt", 1),
            ("ps aux |\n  grep nginx", 1),
            ("make build &&\n  make test", 1),
            ("x=$(\n  date\n)\necho $x", 2),
            ("f() {\n  echo hi\n}\nf", 2),
            ("psql <<SQL\nSELECT 1; -- it's fine\nSQL", 1),
            ("echo done\necho fi", 2),
            ("# a comment with an apostrophe: don't\nls", 2),
            ("echo $'a\\'b'\nls", 2),
        ];
        for (script, n) in cases {
            assert_eq!(split(script).len(), *n, "{script:?}: {:?}", split(script));
        }
    }

    #[test]
    fn fish_blocks_end_with_end() {
        let got = split_commands("for f in *.log\n  gzip $f\nend\nls", true);
        assert_eq!(got.commands.len(), 2);
        assert_eq!(got.unterminated, None);
    }

    #[test]
    fn what_never_ends_is_reported_and_kept() {
        let got = split_commands("ls\necho \"two\nthree", false);
        assert_eq!(got.commands, vec!["ls", "echo \"two\nthree"]);
        assert_eq!(got.unterminated, Some((1, "an open quote")));
        let got = split_commands("cat <<EOF\nnever ends", false);
        assert_eq!(
            got.unterminated,
            Some((0, "a heredoc without its end line"))
        );
    }

    #[test]
    fn completeness() {
        assert!(is_complete("echo hi"));
        assert!(!is_complete("echo \"two"));
        assert!(!is_complete("cat <<EOF\nx"));
        assert!(is_complete("cat <<EOF\nx\nEOF"));
        assert!(!is_complete("for i in 1 2; do"));
        assert!(is_complete("echo a && echo b"));
        assert!(is_complete("echo '<<EOF'"));
        assert!(is_complete("kubectl -n <<namespace>> get pod <<pod>>"));
        assert!(!is_complete("cat <<eof"));
    }
}
