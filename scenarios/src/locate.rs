//! Positions in scenario text: maps a field path such as `faults[2].fault` or `network.drop` to
//! the line and column where that value starts, and a position back to the innermost path.
//!
//! ron reports a position only for the errors it finds itself; once a file has deserialized, the
//! values carry no spans. Validation errors must still point at the offending value, so this
//! module scans the text a second time — skipping comments and strings — into tokens and builds
//! an *outline*: every value of the file with its path and its extent. The same scan finds the
//! syntax errors that ron words poorly (an unclosed or mismatched bracket, an unterminated string
//! or comment) before ron runs.
//!
//! Paths: `.name` is a named field inside parentheses, `[i]` the `i`-th element of a list, `.i`
//! the `i`-th positional value inside parentheses (`Crash(3)` → `fault.0`). `Some( ... )` is
//! transparent: its content has the path of the `Some` itself. The root value has the path `""`.
//!
//! The outline is tolerant: on text it does not understand it stops and keeps what it has, so
//! lookups fall back to the nearest enclosing path that it did see. Nothing here panics or
//! recurses; nesting is an explicit stack.

/// A 1-based line and column; columns count characters (as ron's do).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

impl Pos {
    pub const START: Pos = Pos { line: 1, col: 1 };
}

/// A syntax error found by the scanner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
    pub hint: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    Ident,
    Str,
    Char,
    Number,
    Open(char),
    Close(char),
    Comma,
    Colon,
    Other,
}

#[derive(Clone, Copy, Debug)]
struct Token {
    kind: Tok,
    /// Byte range in the text.
    start: usize,
    end: usize,
    pos: Pos,
    /// Position just after the token.
    end_pos: Pos,
}

/// How a value's path extends its parent's: the last step of the path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// The root value: path `""`.
    Root,
    /// A named field: `.name`, the name being these bytes of the text.
    Field(u32, u32),
    /// The `i`-th positional value inside parentheses: `.i`.
    Positional(u32),
    /// The `i`-th element of a list (or value of a map): `[i]`.
    Index(u32),
    /// The content of `Some( ... )`: the parent's own path.
    Same,
}

/// One value of the file: its parent value and the step from it (so a path is spelled out
/// only when asked for, and the outline stays linear in the size of the text however deep
/// it nests), and its extent (`start` inclusive, `end` exclusive), as positions and as byte
/// offsets.
#[derive(Clone, Debug)]
struct Node {
    parent: Option<usize>,
    step: Step,
    start: Pos,
    end: Pos,
    bytes: std::ops::Range<usize>,
}

/// The most brackets a scenario may nest. A scenario nests about six deep; the limit keeps
/// every pass over the text (this one, ron's, serde's) bounded in depth.
pub const DEPTH_MAX: usize = 64;

/// The outline of a scenario text: its tokens and every value it could place.
#[derive(Debug)]
pub struct Outline<'t> {
    text: &'t str,
    tokens: Vec<Token>,
    nodes: Vec<Node>,
}

impl<'t> Outline<'t> {
    /// Scans `text`; fails on an unterminated string or comment or an unbalanced bracket.
    pub fn new(text: &'t str) -> Result<Outline<'t>, SyntaxError> {
        let tokens = tokenize(text)?;
        if tokens.is_empty() {
            let what = if text.trim().is_empty() {
                "the file is empty"
            } else {
                "the file holds only comments"
            };
            return Err(SyntaxError {
                pos: Pos::START,
                message: what.into(),
                hint: "a scenario file holds one `Scenario( ... )`: see scenarios/README.md".into(),
            });
        }
        check_brackets(&tokens)?;
        let nodes = build(text, &tokens);
        Ok(Outline {
            text,
            tokens,
            nodes,
        })
    }

    /// Where the value at `path` starts; falls back to the nearest enclosing path present in
    /// the text (a defaulted field is absent), and to the start of the text.
    pub fn locate(&self, path: &str) -> Pos {
        let mut p = path;
        loop {
            if let Some(n) = self.find_node(p) {
                return n.start;
            }
            match parent_path(p) {
                Some(parent) => p = parent,
                None => return self.tokens.first().map_or(Pos::START, |t| t.pos),
            }
        }
    }

    /// The value at exactly `path`, if the text has it: where it starts and its text.
    pub fn value(&self, path: &str) -> Option<(Pos, &'t str)> {
        let n = self.find_node(path)?;
        Some((n.start, self.text.get(n.bytes.clone())?))
    }

    /// Where the value at exactly `path` starts, if the text has it.
    #[cfg(test)]
    pub fn find(&self, path: &str) -> Option<Pos> {
        self.find_node(path).map(|n| n.start)
    }

    /// The first value (in text order) whose path is `path`.
    fn find_node(&self, path: &str) -> Option<&Node> {
        let mut buf = String::new();
        self.nodes.iter().enumerate().find_map(|(i, n)| {
            self.spell(i, &mut buf);
            (buf == path).then_some(n)
        })
    }

    /// The path of value `i`, written into `out`.
    fn spell(&self, i: usize, out: &mut String) {
        out.clear();
        let mut steps = Vec::new();
        let mut at = Some(i);
        while let Some(k) = at {
            let n = &self.nodes[k];
            steps.push(n.step);
            at = n.parent;
        }
        for step in steps.iter().rev() {
            match *step {
                Step::Root | Step::Same => {}
                Step::Field(a, b) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(self.text.get(a as usize..b as usize).unwrap_or("?"));
                }
                Step::Positional(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(&k.to_string());
                }
                Step::Index(k) => {
                    out.push('[');
                    out.push_str(&k.to_string());
                    out.push(']');
                }
            }
        }
    }

    /// The path of value `i`.
    fn path_of(&self, i: usize) -> String {
        let mut out = String::new();
        self.spell(i, &mut out);
        out
    }

    /// The path of the innermost value whose extent contains `pos` (`""` for none).
    pub fn path_at(&self, pos: Pos) -> String {
        // Nodes are in pre-order, so the last containing node is the innermost.
        self.nodes
            .iter()
            .rposition(|n| n.start <= pos && pos < n.end)
            .map_or(String::new(), |i| self.path_of(i))
    }

    /// The path of the innermost value that contains `pos` and starts before it: the record
    /// around a field name at `pos`, even when a damaged field (`seed 42`) made the outline read
    /// the name as a value.
    pub fn record_at(&self, pos: Pos) -> String {
        self.nodes
            .iter()
            .rposition(|n| n.start < pos && pos < n.end)
            .map_or(String::new(), |i| self.path_of(i))
    }

    /// The start of the token that contains `pos`, or else of the first token after it: where a
    /// position that ron reports mid-token or on whitespace before a value really points.
    pub fn token_start(&self, pos: Pos) -> Option<Pos> {
        self.tokens.iter().find(|t| pos < t.end_pos).map(|t| t.pos)
    }

    /// The text of the token starting at `pos`.
    pub fn token_text(&self, pos: Pos) -> Option<&'t str> {
        let t = self.tokens.iter().find(|t| t.pos == pos)?;
        self.text.get(t.start..t.end)
    }

    /// The string literal starting at `pos`, without its quotes, if there is one and it has no
    /// escapes.
    pub fn string_at(&self, pos: Pos) -> Option<&'t str> {
        let t = self
            .tokens
            .iter()
            .find(|t| t.pos == pos && t.kind == Tok::Str)?;
        let lit = self.text.get(t.start..t.end)?;
        let inner = lit.strip_prefix('"')?.strip_suffix('"')?;
        (!inner.contains('\\')).then_some(inner)
    }
}

/// `a.b[2].c` → `a.b[2]` → `a.b` → `a` → `""` → none.
pub fn parent_path(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    Some(path.rfind(['.', '[']).map_or("", |i| &path[..i]))
}

/// Appends a named field (or positional `.i`) to a path.
pub fn field(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

/// Appends a list index to a path.
pub fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

struct Cursor<'t> {
    text: &'t str,
    /// Byte offset of the next character.
    at: usize,
    line: usize,
    col: usize,
}

impl Cursor<'_> {
    fn peek(&self, k: usize) -> Option<char> {
        self.text.get(self.at..)?.chars().nth(k)
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.text.get(self.at..)?.chars().next()?;
        self.at += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }
    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            col: self.col,
        }
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn tokenize(text: &str) -> Result<Vec<Token>, SyntaxError> {
    let mut cur = Cursor {
        text,
        at: 0,
        line: 1,
        col: 1,
    };
    let mut out = Vec::new();
    while let Some(c) = cur.peek(0) {
        if c.is_whitespace() {
            cur.bump();
            continue;
        }
        let start = cur.at;
        let pos = cur.pos();
        let kind = match c {
            '/' if cur.peek(1) == Some('/') => {
                while cur.peek(0).is_some_and(|c| c != '\n') {
                    cur.bump();
                }
                continue;
            }
            '/' if cur.peek(1) == Some('*') => {
                skip_block_comment(&mut cur, pos)?;
                continue;
            }
            '"' => {
                cur.bump();
                skip_string_body(&mut cur, pos).map_err(|e| opened_earlier(text, &out, e))?;
                Tok::Str
            }
            'b' if cur.peek(1) == Some('"') => {
                cur.bump();
                cur.bump();
                skip_string_body(&mut cur, pos).map_err(|e| opened_earlier(text, &out, e))?;
                Tok::Str
            }
            'b' if cur.peek(1) == Some('\'') => {
                cur.bump();
                skip_char(&mut cur)
            }
            'r' | 'b' if raw_string_ahead(&cur) => {
                skip_raw_string(&mut cur, pos)?;
                Tok::Str
            }
            '\'' => skip_char(&mut cur),
            c if is_ident_start(c) => {
                if c == 'r' && cur.peek(1) == Some('#') {
                    cur.bump();
                    cur.bump();
                }
                while cur.peek(0).is_some_and(is_ident_continue) {
                    cur.bump();
                }
                Tok::Ident
            }
            c if c.is_ascii_digit()
                || ((c == '-' || c == '+' || c == '.')
                    && cur.peek(1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                cur.bump();
                let mut prev = c;
                while let Some(d) = cur.peek(0) {
                    let sign_after_exponent =
                        (d == '-' || d == '+') && (prev == 'e' || prev == 'E');
                    if d.is_alphanumeric() || d == '.' || d == '_' || sign_after_exponent {
                        prev = d;
                        cur.bump();
                    } else {
                        break;
                    }
                }
                Tok::Number
            }
            '(' | '[' | '{' => {
                cur.bump();
                Tok::Open(c)
            }
            ')' | ']' | '}' => {
                cur.bump();
                Tok::Close(c)
            }
            ',' => {
                cur.bump();
                Tok::Comma
            }
            ':' => {
                cur.bump();
                Tok::Colon
            }
            c if c.is_control() => return Err(SyntaxError {
                pos,
                message: format!("unexpected control character {}", shown_char(c)),
                hint:
                    "a scenario file is text: remove it (an editor may show it as nothing at all)"
                        .into(),
            }),
            _ => {
                cur.bump();
                Tok::Other
            }
        };
        if out.is_empty() {
            not_a_scenario(text, start, kind, &cur)?;
        }
        out.push(Token {
            kind,
            start,
            end: cur.at,
            pos,
            end_pos: cur.pos(),
        });
    }
    Ok(out)
}

/// A character as an error shows it: printable ones in backticks, others by code point and
/// name (`U+0000 (NUL)`), so that nothing in a message is invisible.
pub fn shown_char(c: char) -> String {
    let name = match c {
        '\0' => " (NUL)",
        '\t' => " (tab)",
        '\r' => " (carriage return)",
        '\u{7f}' => " (DEL)",
        '\u{feff}' => " (byte-order mark)",
        _ => "",
    };
    if c.is_control() || c == '\u{feff}' {
        format!("`U+{:04X}`{name}", c as u32)
    } else {
        format!("`{c}`")
    }
}

/// Text as an error quotes it: control characters written as `\u{..}` escapes.
pub fn shown_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// The first token of the file must be able to start a scenario: a name (`Scenario`), `(`,
/// or an inner attribute `#![...]`. Anything else — a Markdown title, a JSON object — is not
/// a scenario file, said before the rest of the text is read as RON.
fn not_a_scenario(
    text: &str,
    start: usize,
    kind: Tok,
    cur: &Cursor<'_>,
) -> Result<(), SyntaxError> {
    let attribute =
        kind == Tok::Other && text.get(start..cur.at) == Some("#") && cur.peek(0) == Some('!');
    if matches!(kind, Tok::Ident | Tok::Open('(')) || attribute {
        return Ok(());
    }
    let line = text[start..].lines().next().unwrap_or("");
    let mut quoted: String = line.chars().take(40).collect();
    if line.chars().count() > 40 {
        quoted.push('…');
    }
    Err(SyntaxError {
        pos: cur_start_pos(text, start),
        message: format!(
            "this is not a scenario file: it starts with `{}`",
            shown_text(quoted.trim_end())
        ),
        hint: "a scenario file holds one `Scenario( ... )` written in RON: see scenarios/README.md"
            .into(),
    })
}

/// The line and column of byte `at` (a character boundary) of `text`.
fn cur_start_pos(text: &str, at: usize) -> Pos {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Pos { line, col }
}

/// An unterminated string is usually a quote missing much earlier: every quote after it then
/// pairs with the wrong partner, and the last one runs out at the end of the file. The first
/// string that spans a line break is where the pairing went wrong, so the error points there.
fn opened_earlier(text: &str, before: &[Token], e: SyntaxError) -> SyntaxError {
    let spans_lines = |t: &&Token| {
        t.kind == Tok::Str && text.get(t.start..t.end).is_some_and(|s| s.contains('\n'))
    };
    match before.iter().find(spans_lines) {
        Some(t) => SyntaxError {
            pos: t.pos,
            message: format!(
                "unterminated string: the string opened here runs past the end of line {}",
                t.pos.line
            ),
            hint: format!(
                "close it with `\"` on line {}; every quote after it pairs with the wrong partner, up to the unpaired one at {}:{}",
                t.pos.line, e.pos.line, e.pos.col
            ),
        },
        None => e,
    }
}

fn skip_block_comment(cur: &mut Cursor<'_>, pos: Pos) -> Result<(), SyntaxError> {
    // ron's block comments nest.
    let mut depth = 0usize;
    loop {
        match (cur.peek(0), cur.peek(1)) {
            (Some('/'), Some('*')) => {
                cur.bump();
                cur.bump();
                depth += 1;
            }
            (Some('*'), Some('/')) => {
                cur.bump();
                cur.bump();
                depth -= 1;
                if depth == 0 {
                    return Ok(());
                }
            }
            (Some(_), _) => {
                cur.bump();
            }
            (None, _) => {
                return Err(SyntaxError {
                    pos,
                    message: "unterminated block comment".into(),
                    hint: "close it with `*/` (block comments nest)".into(),
                })
            }
        }
    }
}

/// After the opening quote: up to and including the closing quote.
fn skip_string_body(cur: &mut Cursor<'_>, pos: Pos) -> Result<(), SyntaxError> {
    loop {
        match cur.bump() {
            Some('"') => return Ok(()),
            Some('\\') => {
                cur.bump();
            }
            Some(_) => {}
            None => {
                return Err(SyntaxError {
                    pos,
                    message: "unterminated string".into(),
                    hint: "close the string with `\"`".into(),
                })
            }
        }
    }
}

/// `r"`, `r#"`, `br"`, `br#"` ahead.
fn raw_string_ahead(cur: &Cursor<'_>) -> bool {
    let mut k = 0;
    if cur.peek(k) == Some('b') {
        k += 1;
    }
    if cur.peek(k) != Some('r') {
        return false;
    }
    k += 1;
    while cur.peek(k) == Some('#') {
        k += 1;
    }
    cur.peek(k) == Some('"')
}

fn skip_raw_string(cur: &mut Cursor<'_>, pos: Pos) -> Result<(), SyntaxError> {
    if cur.peek(0) == Some('b') {
        cur.bump();
    }
    cur.bump(); // r
    let mut hashes = 0usize;
    while cur.peek(0) == Some('#') {
        cur.bump();
        hashes += 1;
    }
    cur.bump(); // "
    loop {
        match cur.bump() {
            Some('"') => {
                let mut k = 0;
                while k < hashes && cur.peek(k) == Some('#') {
                    k += 1;
                }
                if k == hashes {
                    for _ in 0..hashes {
                        cur.bump();
                    }
                    return Ok(());
                }
            }
            Some(_) => {}
            None => {
                return Err(SyntaxError {
                    pos,
                    message: "unterminated raw string".into(),
                    hint: format!("close it with `\"{}`", "#".repeat(hashes)),
                })
            }
        }
    }
}

/// At the opening `'`: a char literal if it closes on the same line, else a lone `'` (which
/// ron will reject with its own message).
fn skip_char(cur: &mut Cursor<'_>) -> Tok {
    let mut k = 1;
    loop {
        match cur.peek(k) {
            Some('\\') => k += 2,
            Some('\'') if k > 1 => {
                for _ in 0..=k {
                    cur.bump();
                }
                return Tok::Char;
            }
            Some('\n') | None => {
                cur.bump();
                return Tok::Other;
            }
            Some(_) => k += 1,
        }
        if k > 16 {
            cur.bump();
            return Tok::Other;
        }
    }
}

fn closer_of(open: char) -> char {
    match open {
        '(' => ')',
        '[' => ']',
        _ => '}',
    }
}

fn check_brackets(tokens: &[Token]) -> Result<(), SyntaxError> {
    let mut stack: Vec<(char, Pos)> = Vec::new();
    for t in tokens {
        match t.kind {
            Tok::Open(_) if stack.len() == DEPTH_MAX => {
                return Err(SyntaxError {
                    pos: t.pos,
                    message: format!("brackets nest deeper than {DEPTH_MAX} levels here"),
                    hint: format!(
                        "a scenario nests about six levels deep; look for a run of opening brackets (the outermost still open is at {}:{})",
                        stack[0].1.line, stack[0].1.col
                    ),
                })
            }
            Tok::Open(c) => stack.push((c, t.pos)),
            Tok::Close(c) => match stack.pop() {
                Some((open, _)) if closer_of(open) == c => {}
                Some((open, at)) => {
                    return Err(SyntaxError {
                        pos: t.pos,
                        message: format!(
                            "mismatched `{c}`: the `{open}` at {}:{} is still open",
                            at.line, at.col
                        ),
                        hint: format!("close `{open}` with `{}` first", closer_of(open)),
                    })
                }
                None => {
                    return Err(SyntaxError {
                        pos: t.pos,
                        message: format!("unexpected `{c}`: it closes nothing"),
                        hint: "remove it, or add the bracket it should close".into(),
                    })
                }
            },
            _ => {}
        }
    }
    match stack.pop() {
        Some((open, at)) => Err(SyntaxError {
            pos: at,
            message: format!("unclosed `{open}`"),
            hint: format!(
                "the file ends before this `{open}` is closed: add `{}` where it should end",
                closer_of(open)
            ),
        }),
        None => Ok(()),
    }
}

/// A bracket being filled, on the outline builder's explicit stack.
struct Frame {
    close: char,
    /// The value the bracket opened.
    node: usize,
    positional: u32,
    /// `Some( ... )`: the content takes the frame's own path.
    transparent: bool,
}

/// Where the next value sits: its parent value (none for the root) and the step from it.
type Slot = (Option<usize>, Step);

/// Builds the outline; stops quietly at anything it does not understand.
fn build(text: &str, tokens: &[Token]) -> Vec<Node> {
    let end_of_text = {
        let mut cur = Cursor {
            text,
            at: 0,
            line: 1,
            col: 1,
        };
        while cur.bump().is_some() {}
        cur.pos()
    };
    let mut nodes: Vec<Node> = Vec::new();
    let mut frames: Vec<Frame> = Vec::new();
    let mut i = skip_attributes(text, tokens);
    // Where the value about to start sits, or `None` after a value (expecting `,` or a closer).
    let mut pending: Option<Slot> = Some((None, Step::Root));
    while let Some(t) = tokens.get(i) {
        match pending.take() {
            Some((parent, step)) => {
                // A value starts here.
                let opens = match t.kind {
                    Tok::Ident
                        if matches!(tokens.get(i + 1).map(|n| n.kind), Some(Tok::Open('('))) =>
                    {
                        Some((')', text.get(t.start..t.end) == Some("Some"), 2))
                    }
                    Tok::Open(c) => Some((closer_of(c), false, 1)),
                    Tok::Ident | Tok::Str | Tok::Char | Tok::Number => {
                        nodes.push(Node {
                            parent,
                            step,
                            start: t.pos,
                            end: t.end_pos,
                            bytes: t.start..t.end,
                        });
                        i += 1;
                        if frames.is_empty() {
                            break;
                        }
                        continue;
                    }
                    _ => None,
                };
                let Some((close, transparent, skip)) = opens else {
                    break;
                };
                nodes.push(Node {
                    parent,
                    step,
                    start: t.pos,
                    end: end_of_text,
                    bytes: t.start..text.len(),
                });
                frames.push(Frame {
                    close,
                    node: nodes.len() - 1,
                    positional: 0,
                    transparent,
                });
                i += skip;
                // Just opened a bracket: an item or the closer follows.
                match item_start(text, tokens, &mut i, &mut frames, &mut nodes) {
                    Some(Some(slot)) => pending = Some(slot),
                    Some(None) => {}
                    None => break,
                }
            }
            None => {
                // After a value: `,` then the next item, or a closer.
                match t.kind {
                    Tok::Comma => {
                        i += 1;
                        match item_start(text, tokens, &mut i, &mut frames, &mut nodes) {
                            Some(Some(slot)) => pending = Some(slot),
                            Some(None) => {}
                            None => break,
                        }
                    }
                    Tok::Close(c) => {
                        if !close_frame(c, t, &mut frames, &mut nodes) {
                            break;
                        }
                        i += 1;
                    }
                    _ => break,
                }
                if frames.is_empty() && pending.is_none() {
                    break;
                }
            }
        }
    }
    nodes
}

/// The index of the first token after any inner attributes (`#![enable(...)]`).
fn skip_attributes(text: &str, tokens: &[Token]) -> usize {
    let mut i = 0usize;
    while tokens
        .get(i)
        .is_some_and(|t| t.kind == Tok::Other && text.get(t.start..t.end) == Some("#"))
    {
        let mut depth = 0usize;
        i += 1;
        while let Some(t) = tokens.get(i) {
            i += 1;
            match t.kind {
                Tok::Open(_) => depth += 1,
                Tok::Close(_) => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    i
}

/// At the start of an item inside the innermost frame: returns where the item sits
/// (`Some(Some(slot))`), or closes the frame when the closer comes first (`Some(None)`), or
/// gives up (`None`).
fn item_start(
    text: &str,
    tokens: &[Token],
    i: &mut usize,
    frames: &mut Vec<Frame>,
    nodes: &mut [Node],
) -> Option<Option<Slot>> {
    let t = tokens.get(*i)?;
    if let Tok::Close(c) = t.kind {
        if !close_frame(c, t, frames, nodes) {
            return None;
        }
        *i += 1;
        return Some(None);
    }
    let frame = frames.last_mut()?;
    let named =
        t.kind == Tok::Ident && matches!(tokens.get(*i + 1).map(|n| n.kind), Some(Tok::Colon));
    let step = match frame.close {
        ')' if named => {
            *i += 2;
            text.get(t.start..t.end)?;
            Step::Field(u32::try_from(t.start).ok()?, u32::try_from(t.end).ok()?)
        }
        ')' if frame.transparent => Step::Same,
        ')' => {
            frame.positional += 1;
            Step::Positional(frame.positional - 1)
        }
        ']' => {
            frame.positional += 1;
            Step::Index(frame.positional - 1)
        }
        _ => {
            // A map: skip the key and its colon; the value is `path[i]`.
            if !matches!(tokens.get(*i + 1).map(|n| n.kind), Some(Tok::Colon)) {
                return None;
            }
            *i += 2;
            frame.positional += 1;
            Step::Index(frame.positional - 1)
        }
    };
    Some(Some((Some(frame.node), step)))
}

fn close_frame(c: char, t: &Token, frames: &mut Vec<Frame>, nodes: &mut [Node]) -> bool {
    match frames.pop() {
        Some(f) if f.close == c => {
            if let Some(n) = nodes.get_mut(f.node) {
                n.end = t.end_pos;
                n.bytes.end = t.end;
            }
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r##"// a comment with ( and "
Scenario(
    name: "a (tricky) \" string",
    /* block /* nested */ ) */ nodes: 4,
    network: (drop: 0.5, latency: Uniform(min: "1ms", max: r#"2ms"#)),
    liveness: Some("5s"),
    faults: [
        (at: "1s", fault: Crash(3)),
        (at: "2s", fault: Partition(Split([[0, 1], (nodes: [2, 3], clients: [0])]))),
    ],
    c: 'x', d: -1.5e-3,
)
"##;

    /// `path` → `line:col` (or `-` when absent), data-driven.
    fn check(path: &str, want: &str) {
        let o = Outline::new(TEXT).unwrap();
        let got = o
            .find(path)
            .map_or("-".to_string(), |p| format!("{}:{}", p.line, p.col));
        assert_eq!(got, want, "path `{path}`");
    }

    #[test]
    fn finds_paths() {
        check("", "2:1");
        check("name", "3:11");
        check("nodes", "4:39");
        check("network", "5:14");
        check("network.drop", "5:21");
        check("network.latency", "5:35");
        check("network.latency.max", "5:60");
        check("liveness", "6:15");
        check("faults", "7:13");
        check("faults[0]", "8:9");
        check("faults[0].at", "8:14");
        check("faults[0].fault", "8:27");
        check("faults[0].fault.0", "8:33");
        check("faults[1].fault.0", "9:37");
        check("faults[1].fault.0.0[0][1]", "9:48");
        check("faults[1].fault.0.0[1].nodes[1]", "9:64");
        check("faults[1].fault.0.0[1].clients[0]", "9:78");
        check("c", "11:8");
        check("d", "11:16");
        check("faults[2]", "-");
        check("network.duplicate", "-");
    }

    #[test]
    fn locate_falls_back_to_the_nearest_enclosing_value() {
        let o = Outline::new(TEXT).unwrap();
        assert_eq!(o.locate("network.duplicate"), Pos { line: 5, col: 14 });
        assert_eq!(o.locate("clients.count"), Pos { line: 2, col: 1 });
        assert_eq!(
            o.locate("faults[1].fault.0.0[1].nodes[7]"),
            Pos { line: 9, col: 60 }
        );
    }

    #[test]
    fn maps_positions_back_to_paths() {
        let o = Outline::new(TEXT).unwrap();
        let at = |line, col| o.path_at(Pos { line, col }).to_string();
        assert_eq!(at(5, 15), "network"); // the `drop` key
        assert_eq!(at(5, 22), "network.drop");
        assert_eq!(at(5, 69), "network"); // its closing paren
        assert_eq!(at(5, 68), "network.latency"); // closing paren of network
        assert_eq!(at(9, 48), "faults[1].fault.0.0[0][1]");
        assert_eq!(at(9, 54), "faults[1].fault.0.0[1]"); // the `nodes` key
        assert_eq!(at(12, 1), ""); // the root's closing paren
        assert_eq!(at(1, 1), "");
        let damaged = Outline::new("(a: 1, b 2, c: 3)").unwrap();
        assert_eq!(damaged.path_at(Pos { line: 1, col: 8 }), "0"); // `b` read as a value
        assert_eq!(damaged.record_at(Pos { line: 1, col: 8 }), "");
        assert_eq!(o.record_at(Pos { line: 5, col: 15 }), "network"); // the `drop` key
    }

    #[test]
    fn snaps_positions_to_tokens() {
        let o = Outline::new(TEXT).unwrap();
        let snap = |line, col| o.token_start(Pos { line, col }).map(|p| (p.line, p.col));
        assert_eq!(snap(3, 13), Some((3, 11))); // inside the string
        assert_eq!(snap(3, 10), Some((3, 11))); // the space before it
        assert_eq!(snap(4, 5), Some((4, 32))); // a comment before `nodes`
        assert_eq!(snap(13, 1), None); // past the end
        assert_eq!(o.token_text(Pos { line: 11, col: 16 }), Some("-1.5e-3"));
    }

    #[test]
    fn reads_string_literals() {
        let o = Outline::new(TEXT).unwrap();
        assert_eq!(o.string_at(Pos { line: 8, col: 14 }), Some("1s"));
        assert_eq!(o.string_at(Pos { line: 3, col: 11 }), None); // has an escape
        assert_eq!(o.string_at(Pos { line: 8, col: 27 }), None); // not a string
    }

    fn syntax(text: &str) -> String {
        match Outline::new(text) {
            Ok(_) => "ok".into(),
            Err(e) => format!("{}:{}: {} ({})", e.pos.line, e.pos.col, e.message, e.hint),
        }
    }

    #[test]
    fn reports_bracket_and_string_errors() {
        assert_eq!(
            syntax("(a: [1, 2)"),
            "1:10: mismatched `)`: the `[` at 1:5 is still open (close `[` with `]` first)"
        );
        assert_eq!(syntax("(a: 1))"), "1:7: unexpected `)`: it closes nothing (remove it, or add the bracket it should close)");
        assert_eq!(
            syntax("(a: (\n b: 1)"),
            "1:1: unclosed `(` (the file ends before this `(` is closed: add `)` where it should end)"
        );
        assert_eq!(
            syntax("(a: \"x)"),
            "1:5: unterminated string (close the string with `\"`)"
        );
        assert_eq!(
            syntax("(a: 1) /* x"),
            "1:8: unterminated block comment (close it with `*/` (block comments nest))"
        );
        assert_eq!(
            syntax("(a: r##\"x\"#)"),
            "1:5: unterminated raw string (close it with `\"##`)"
        );
        assert_eq!(syntax("(a: ')', b: '\\'', c: \"(\")"), "ok");
    }

    #[test]
    fn tolerates_what_it_does_not_understand() {
        for text in [
            "",
            "(",
            ")",
            "a: b",
            "(a: : 1)",
            "((((",
            "(a: [1 2])",
            "Some(",
            "#![enable(x)] (a: 1)",
            "{1: 2}",
            "é(ü: 'ö')",
        ] {
            if let Ok(o) = Outline::new(text) {
                let _ = o.locate("a.b[3]");
                let _ = o.path_at(Pos { line: 1, col: 3 });
            }
        }
        let o = Outline::new("#![enable(implicit_some)] (a: 1)").unwrap();
        assert_eq!(o.find("a"), Some(Pos { line: 1, col: 31 }));
    }

    #[test]
    fn parent_paths() {
        assert_eq!(parent_path("a.b[2].c"), Some("a.b[2]"));
        assert_eq!(parent_path("a.b[2]"), Some("a.b"));
        assert_eq!(parent_path("a"), Some(""));
        assert_eq!(parent_path(""), None);
    }
}
