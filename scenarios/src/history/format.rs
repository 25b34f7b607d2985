//! History file formats: reading the four formats `dsim check` accepts, and writing dsim's
//! histories so that other tools (and `dsim check`) can read them.
//!
//! Formats read (detected automatically from the first meaningful line):
//! - `jepsen-log`: Jepsen's log lines, `INFO  jepsen.util - 2 :invoke :cas [3 0]` (tabs or
//!   runs of spaces between fields), as in Porcupine's etcd test data.
//! - `edn`: Jepsen/Knossos EDN — a vector or list of operation maps, possibly spanning lines.
//! - `kv`: one EDN operation map per line, with `:key` (Porcupine's kv test data).
//! - `jsonl`: dsim's JSON Lines, one complete operation per line (what [`write_jsonl`]
//!   writes), or one Jepsen-style event per line.
//!
//! Event formats (everything but complete-operation JSON lines) pair each invocation with the
//! next completion of the same process; an operation still open at the end is indeterminate.
//! Times are event numbers, since the file order is the real-time order. Errors name the line
//! and what was expected; the caller adds the file name.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;

use sim_core::check::linearizability::{Completion, Input, LinOp, Value};
use sim_core::{History, Outcome, Request, Response};

/// Nesting deeper than this in an EDN file is refused (the reader recurses).
const EDN_DEPTH_MAX: usize = 64;
/// The first line of an EDN history written by dsim (its `nil` reads mean "absent").
pub const EDN_DSIM_HEADER: &str = "; dsim history";

/// A history file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Detect from the content.
    Auto,
    /// Jepsen log lines (Porcupine's etcd data).
    JepsenLog,
    /// Jepsen/Knossos EDN: a vector or list of operation maps.
    Edn,
    /// One EDN operation map per line, with keys (Porcupine's kv data).
    Kv,
    /// dsim's JSON Lines.
    Jsonl,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Auto,
        Format::JepsenLog,
        Format::Edn,
        Format::Kv,
        Format::Jsonl,
    ];

    /// The format named `name` (as [`Format::name`] spells it).
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::JepsenLog => "jepsen-log",
            Format::Edn => "edn",
            Format::Kv => "kv",
            Format::Jsonl => "jsonl",
        }
    }
}

/// A malformed history: the line, what was expected, and a hint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    pub message: String,
    pub hint: Option<String>,
}

impl ParseError {
    fn new(line: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            line,
            message: message.into(),
            hint: None,
        }
    }
    fn hint(mut self, hint: impl Into<String>) -> ParseError {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.line, self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

/// A parsed history.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedHistory {
    /// The format it was read as (never `Auto`).
    pub format: Format,
    pub ops: Vec<LinOp>,
    /// The line of each operation's invocation.
    pub lines: Vec<usize>,
    /// True when the file says it was written by dsim (its `nil` reads mean "absent").
    pub written_by_dsim: bool,
    /// Events of processes that are not clients (the nemesis's `:info` entries), skipped.
    pub other_events: usize,
}

impl ParsedHistory {
    /// Number of distinct keys (`Nil` counts as the single register).
    pub fn key_count(&self) -> usize {
        let mut keys: Vec<&Value> = self.ops.iter().map(|o| &o.key).collect();
        keys.sort();
        keys.dedup();
        keys.len()
    }
}

/// Detects the format from the first meaningful line, if it can.
pub fn detect(text: &str) -> Option<Format> {
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with(';') {
            continue;
        }
        if t.starts_with('[') || t.starts_with('(') {
            return Some(Format::Edn);
        }
        if let Some(rest) = t.strip_prefix('{') {
            let rest = rest.trim_start();
            return Some(if rest.starts_with('"') || rest.starts_with('}') {
                Format::Jsonl
            } else {
                Format::Kv
            });
        }
        if t.contains("jepsen.util") || jepsen_log_fields(t).is_some() {
            return Some(Format::JepsenLog);
        }
        return None;
    }
    None
}

/// Parses `text` as `format` (`Auto` detects it).
pub fn parse(text: &str, format: Format) -> Result<ParsedHistory, ParseError> {
    let format = match format {
        Format::Auto => detect(text).ok_or_else(|| {
            let line = text
                .lines()
                .position(|l| !l.trim().is_empty())
                .map_or(1, |i| i + 1);
            ParseError::new(line, "cannot tell the history format from this line")
                .hint("pass `--format jepsen-log|edn|kv|jsonl`")
        })?,
        f => f,
    };
    let mut parsed = match format {
        Format::JepsenLog => parse_jepsen_log(text)?,
        Format::Edn | Format::Kv => parse_edn_events(text)?,
        Format::Jsonl => parse_jsonl(text)?,
        Format::Auto => unreachable!("resolved above"),
    };
    parsed.format = format;
    parsed.written_by_dsim = text.starts_with(EDN_DSIM_HEADER);
    // Only nemesis entries (Knossos ships such a history and calls it valid): no client
    // operation, which is trivially linearizable; the caller says so.
    if parsed.ops.is_empty() && parsed.other_events == 0 {
        return Err(ParseError::new(
            text.lines().count().max(1),
            "expected at least one operation, found none",
        )
        .hint(format!("is this a `{}` history?", format.name())));
    }
    Ok(parsed)
}

// ---- Events and their pairing ----------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Invoke,
    Ok,
    Fail,
    Info,
}

impl Kind {
    fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "invoke" => Kind::Invoke,
            "ok" => Kind::Ok,
            "fail" => Kind::Fail,
            "info" => Kind::Info,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum F {
    Read,
    Write,
    Cas,
    Append,
}

impl F {
    fn parse(s: &str) -> Option<F> {
        Some(match s {
            "read" | "get" => F::Read,
            "write" | "put" => F::Write,
            "cas" => F::Cas,
            "append" => F::Append,
            _ => return None,
        })
    }
}

const F_EXPECTED: &str = "`read`, `write`, `cas`, `append`, `get` or `put`";

/// A value as the formats carry it, before it becomes an operation's input or output.
#[derive(Clone, Debug, PartialEq)]
enum Scalar {
    Value(Value),
    Pair(Value, Value),
    /// Anything else (a keyword such as `:timed-out`, a map…): only fine where ignored.
    Other(String),
}

struct Event {
    line: usize,
    process: u64,
    kind: Kind,
    f: F,
    key: Value,
    value: Scalar,
}

/// Pairs invocations and completions into operations.
#[derive(Default)]
struct Pairer {
    /// Open operation of each process: index into `ops`.
    open: BTreeMap<u64, usize>,
    ops: Vec<LinOp>,
    lines: Vec<usize>,
    fs: Vec<F>,
    time: u64,
    /// Events of non-client processes (the nemesis), skipped.
    skipped: usize,
}

impl Pairer {
    fn push(&mut self, ev: Event) -> Result<(), ParseError> {
        let t = self.time;
        self.time += 1;
        if ev.kind == Kind::Invoke {
            if let Some(&i) = self.open.get(&ev.process) {
                return Err(ParseError::new(
                    ev.line,
                    format!(
                        "process `{}` invokes again while its operation from line {} is still open",
                        ev.process, self.lines[i]
                    ),
                )
                .hint("each process runs one operation at a time; a crashed process's operation ends with `:info`"));
            }
            let input = match (ev.f, &ev.value) {
                (F::Read, _) => Input::Read,
                (F::Write, Scalar::Value(v)) if *v != Value::Nil => Input::Write(v.clone()),
                (F::Append, Scalar::Value(v)) if *v != Value::Nil => Input::Append(v.clone()),
                (F::Cas, Scalar::Pair(a, b)) => Input::Cas {
                    expected: a.clone(),
                    new: b.clone(),
                },
                (F::Cas, other) => {
                    return Err(ParseError::new(
                        ev.line,
                        format!(
                            "expected `[expected new]` as the value of a `cas`, found `{}`",
                            other.show()
                        ),
                    ))
                }
                (_, other) => {
                    return Err(ParseError::new(
                        ev.line,
                        format!(
                            "expected an integer or a string to write, found `{}`",
                            other.show()
                        ),
                    ))
                }
            };
            self.open.insert(ev.process, self.ops.len());
            self.ops.push(LinOp {
                process: ev.process,
                key: ev.key,
                call: t,
                ret: None,
                input,
                output: None,
                completion: Completion::Unknown,
            });
            self.lines.push(ev.line);
            self.fs.push(ev.f);
            return Ok(());
        }
        let Some(i) = self.open.remove(&ev.process) else {
            return Err(ParseError::new(
                ev.line,
                format!(
                    "a completion for process `{}`, which has no open operation",
                    ev.process
                ),
            )
            .hint("every `:ok`, `:fail` or `:info` follows an `:invoke` of the same process"));
        };
        if self.fs[i] != ev.f {
            return Err(ParseError::new(
                ev.line,
                format!(
                    "process `{}` completes a `{:?}` but invoked a `{:?}` at line {}",
                    ev.process, ev.f, self.fs[i], self.lines[i]
                )
                .to_lowercase(),
            ));
        }
        let op = &mut self.ops[i];
        op.ret = Some(t);
        op.completion = match ev.kind {
            Kind::Ok => Completion::Ok,
            Kind::Fail => Completion::Fail,
            Kind::Info | Kind::Invoke => Completion::Unknown,
        };
        if ev.f == F::Read && ev.kind == Kind::Ok {
            match ev.value {
                Scalar::Value(v) => op.output = Some(v),
                other => {
                    return Err(ParseError::new(
                        ev.line,
                        format!(
                            "expected the value read (nil, an integer or a string), found `{}`",
                            other.show()
                        ),
                    ))
                }
            }
        }
        Ok(())
    }

    fn finish(self) -> ParsedHistory {
        ParsedHistory {
            format: Format::Auto,
            ops: self.ops,
            lines: self.lines,
            written_by_dsim: false,
            other_events: self.skipped,
        }
    }
}

impl Scalar {
    fn show(&self) -> String {
        match self {
            Scalar::Value(v) => v.to_string(),
            Scalar::Pair(a, b) => format!("[{a} {b}]"),
            Scalar::Other(s) => s.clone(),
        }
    }
}

// ---- Jepsen logs --------------------------------------------------------------------------

/// The fields after ` - ` of a Jepsen log line: process, type, f, value text.
fn jepsen_log_fields(line: &str) -> Option<(&str, &str, &str, &str)> {
    let rest = match line.find(" - ") {
        Some(i) => &line[i + 3..],
        None => line,
    };
    let mut it = rest.trim_start().splitn(2, char::is_whitespace);
    let process = it.next()?;
    let rest = it.next()?.trim_start();
    let mut it = rest.splitn(2, char::is_whitespace);
    let kind = it.next()?;
    let rest = it.next()?.trim_start();
    let mut it = rest.splitn(2, char::is_whitespace);
    let f = it.next()?;
    let value = it.next().unwrap_or("").trim();
    if !kind.starts_with(':') || !f.starts_with(':') || Kind::parse(&kind[1..]).is_none() {
        return None;
    }
    Some((process, kind, f, value))
}

fn parse_jepsen_log(text: &str) -> Result<ParsedHistory, ParseError> {
    let mut pairer = Pairer::default();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        // Other log lines (workers starting, nemesis chatter) are not operations.
        let Some((process, kind, f, value)) = jepsen_log_fields(line) else {
            continue;
        };
        if process.starts_with(':') {
            pairer.skipped += 1; // :nemesis
            continue;
        }
        let process: u64 = process.parse().map_err(|_| {
            ParseError::new(
                line_no,
                format!("expected a process number, found `{process}`"),
            )
        })?;
        let kind = Kind::parse(&kind[1..]).expect("checked by jepsen_log_fields");
        let f = F::parse(&f[1..]).ok_or_else(|| {
            ParseError::new(line_no, format!("expected {F_EXPECTED}, found `{f}`"))
        })?;
        let value = if value.is_empty() {
            Scalar::Value(Value::Nil)
        } else {
            let mut reader = EdnReader::new(value, line_no);
            let form = reader
                .read_form()?
                .ok_or_else(|| ParseError::new(line_no, "expected a value after the operation"))?;
            scalar(&form.1)
        };
        pairer.push(Event {
            line: line_no,
            process,
            kind,
            f,
            key: Value::Nil,
            value,
        })?;
    }
    Ok(pairer.finish())
}

// ---- EDN ----------------------------------------------------------------------------------

/// An EDN form (the subset histories use, plus enough of the rest to skip it).
#[derive(Clone, Debug, PartialEq)]
enum Edn {
    Nil,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Keyword(String),
    Symbol(String),
    Vector(Vec<(usize, Edn)>),
    List(Vec<(usize, Edn)>),
    Set(Vec<Edn>),
    Map(Vec<(Edn, Edn)>),
}

impl Edn {
    fn show(&self) -> String {
        match self {
            Edn::Nil => "nil".into(),
            Edn::Bool(b) => b.to_string(),
            Edn::Int(n) => n.to_string(),
            Edn::Float(x) => x.to_string(),
            Edn::Str(s) => format!("{s:?}"),
            Edn::Keyword(k) => format!(":{k}"),
            Edn::Symbol(s) => s.clone(),
            Edn::Vector(_) => "[…]".into(),
            Edn::List(_) => "(…)".into(),
            Edn::Set(_) => "#{…}".into(),
            Edn::Map(_) => "{…}".into(),
        }
    }
}

/// Converts a value field to a scalar: nil, an integer, a string, or a pair of them.
fn scalar(form: &Edn) -> Scalar {
    fn value(form: &Edn) -> Option<Value> {
        match form {
            Edn::Nil => Some(Value::Nil),
            Edn::Int(n) => Some(Value::Int(*n)),
            Edn::Str(s) => Some(Value::Str(s.clone())),
            _ => None,
        }
    }
    match form {
        Edn::Vector(items) | Edn::List(items) if items.len() == 2 => {
            match (value(&items[0].1), value(&items[1].1)) {
                (Some(a), Some(b)) => Scalar::Pair(a, b),
                _ => Scalar::Other(form.show()),
            }
        }
        f => value(f).map_or_else(|| Scalar::Other(f.show()), Scalar::Value),
    }
}

struct EdnReader<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
}

fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | '(' | ')' | '[' | ']' | '{' | '}' | '"' | ';')
}

impl<'a> EdnReader<'a> {
    fn new(text: &'a str, line: usize) -> EdnReader<'a> {
        EdnReader { text, pos: 0, line }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn skip_blank(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_whitespace() || c == ',' {
                self.bump();
            } else if c == ';' {
                while let Some(c) = self.peek() {
                    if c == '\n' {
                        break;
                    }
                    self.bump();
                }
            } else {
                break;
            }
        }
    }

    /// The next top-level form and the line it starts on, or `None` at the end.
    fn read_form(&mut self) -> Result<Option<(usize, Edn)>, ParseError> {
        self.skip_blank();
        if self.peek().is_none() {
            return Ok(None);
        }
        let line = self.line;
        Ok(Some((line, self.read(0)?)))
    }

    fn read(&mut self, depth: usize) -> Result<Edn, ParseError> {
        if depth > EDN_DEPTH_MAX {
            return Err(ParseError::new(
                self.line,
                format!("expected at most {EDN_DEPTH_MAX} levels of nesting"),
            ));
        }
        self.skip_blank();
        let line = self.line;
        let Some(c) = self.peek() else {
            return Err(ParseError::new(
                line,
                "expected a value, found the end of the file",
            ));
        };
        match c {
            '[' | '(' => {
                self.bump();
                let close = if c == '[' { ']' } else { ')' };
                let items = self.read_seq(close, line, depth)?;
                Ok(if c == '[' {
                    Edn::Vector(items)
                } else {
                    Edn::List(items)
                })
            }
            '{' => {
                self.bump();
                let items = self.read_seq('}', line, depth)?;
                if items.len() % 2 != 0 {
                    return Err(ParseError::new(
                        line,
                        "expected a map with an even number of forms",
                    )
                    .hint("every key needs a value"));
                }
                let mut map = Vec::with_capacity(items.len() / 2);
                let mut it = items.into_iter();
                while let (Some((_, k)), Some((_, v))) = (it.next(), it.next()) {
                    map.push((k, v));
                }
                Ok(Edn::Map(map))
            }
            '"' => self.read_string(),
            '#' => {
                self.bump();
                match self.peek() {
                    Some('{') => {
                        self.bump();
                        let items = self.read_seq('}', line, depth)?;
                        Ok(Edn::Set(items.into_iter().map(|(_, e)| e).collect()))
                    }
                    Some('_') => {
                        self.bump();
                        self.read(depth + 1)?;
                        self.read(depth + 1)
                    }
                    _ => {
                        // A tagged literal such as #inst "…": keep the form, drop the tag.
                        let tag = self.read_token();
                        if tag.is_empty() {
                            return Err(ParseError::new(line, "expected a tag or `{` after `#`"));
                        }
                        self.read(depth + 1)
                    }
                }
            }
            ')' | ']' | '}' => Err(
                ParseError::new(line, format!("expected a value, found `{c}`"))
                    .hint("a bracket is closed that was not opened"),
            ),
            '\\' => {
                self.bump();
                let token = self.read_token();
                Ok(Edn::Str(token))
            }
            _ => {
                let token = self.read_token();
                if token.is_empty() {
                    return Err(ParseError::new(
                        line,
                        format!("expected a value, found `{c}`"),
                    ));
                }
                Ok(atom(&token))
            }
        }
    }

    fn read_seq(
        &mut self,
        close: char,
        open_line: usize,
        depth: usize,
    ) -> Result<Vec<(usize, Edn)>, ParseError> {
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            match self.peek() {
                None => {
                    return Err(ParseError::new(
                        self.line,
                        format!("expected `{close}` to close what opened at line {open_line}, found the end of the file"),
                    ))
                }
                Some(c) if c == close => {
                    self.bump();
                    return Ok(items);
                }
                Some(c @ (')' | ']' | '}')) => {
                    return Err(ParseError::new(
                        self.line,
                        format!("expected `{close}` to close what opened at line {open_line}, found `{c}`"),
                    ))
                }
                Some(_) => {
                    let line = self.line;
                    items.push((line, self.read(depth + 1)?));
                }
            }
        }
    }

    fn read_token(&mut self) -> String {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if is_delimiter(c) {
                break;
            }
            self.bump();
        }
        self.text[start..self.pos].to_string()
    }

    fn read_string(&mut self) -> Result<Edn, ParseError> {
        let line = self.line;
        self.bump(); // "
        let mut s = String::new();
        loop {
            match self.bump() {
                None => return Err(ParseError::new(
                    line,
                    "expected `\"` to end the string that starts here, found the end of the file",
                )),
                Some('"') => return Ok(Edn::Str(s)),
                Some('\\') => match self.bump() {
                    Some('n') => s.push('\n'),
                    Some('t') => s.push('\t'),
                    Some('r') => s.push('\r'),
                    Some('u') => {
                        let hex: String = (0..4).filter_map(|_| self.bump()).collect();
                        let c = u32::from_str_radix(&hex, 16)
                            .ok()
                            .and_then(char::from_u32)
                            .ok_or_else(|| {
                                ParseError::new(
                                    self.line,
                                    format!("expected four hex digits after `\\u`, found `{hex}`"),
                                )
                            })?;
                        s.push(c);
                    }
                    Some(c) => s.push(c),
                    None => return Err(ParseError::new(line, "expected a character after `\\`")),
                },
                Some(c) => s.push(c),
            }
        }
    }
}

fn atom(token: &str) -> Edn {
    match token {
        "nil" => return Edn::Nil,
        "true" => return Edn::Bool(true),
        "false" => return Edn::Bool(false),
        _ => {}
    }
    if let Some(k) = token.strip_prefix(':') {
        return Edn::Keyword(k.to_string());
    }
    let digits = token.strip_suffix('N').unwrap_or(token);
    if let Ok(n) = digits.parse::<i128>() {
        return Edn::Int(n);
    }
    let starts_numeric = token.chars().next().is_some_and(|c| c.is_ascii_digit())
        || (token.len() > 1 && (token.starts_with('-') || token.starts_with('+')));
    if starts_numeric {
        if let Ok(x) = token.strip_suffix('M').unwrap_or(token).parse::<f64>() {
            return Edn::Float(x);
        }
    }
    Edn::Symbol(token.to_string())
}

fn map_get<'e>(map: &'e [(Edn, Edn)], key: &str) -> Option<&'e Edn> {
    map.iter()
        .find(|(k, _)| matches!(k, Edn::Keyword(s) if s == key))
        .map(|(_, v)| v)
}

/// An operation event from an EDN map, or `None` for events that are not client operations
/// (the nemesis).
fn edn_event(line: usize, form: &Edn) -> Result<Option<Event>, ParseError> {
    let Edn::Map(map) = form else {
        return Err(ParseError::new(
            line,
            format!(
                "expected an operation map `{{:process …, :type …, :f …}}`, found `{}`",
                form.show()
            ),
        ));
    };
    let field = |name: &str| {
        map_get(map, name).ok_or_else(|| {
            ParseError::new(line, format!("expected a `:{name}` in the operation map"))
                .hint("operations look like `{:process 0, :type :invoke, :f :read, :value nil}`")
        })
    };
    let process = match field("process")? {
        Edn::Int(n) if *n >= 0 && *n <= i128::from(u64::MAX) => *n as u64,
        Edn::Keyword(_) => return Ok(None), // :nemesis
        other => {
            return Err(ParseError::new(
                line,
                format!("expected a process number, found `{}`", other.show()),
            ))
        }
    };
    let kind = match field("type")? {
        Edn::Keyword(k) => Kind::parse(k),
        _ => None,
    }
    .ok_or_else(|| {
        ParseError::new(
            line,
            format!(
                "expected `:invoke`, `:ok`, `:fail` or `:info` as `:type`, found `{}`",
                field("type").map(|f| f.show()).unwrap_or_default()
            ),
        )
    })?;
    let f_form = field("f")?;
    let f = match f_form {
        Edn::Keyword(k) => F::parse(k),
        _ => None,
    }
    .ok_or_else(|| {
        ParseError::new(
            line,
            format!("expected {F_EXPECTED} as `:f`, found `{}`", f_form.show()),
        )
    })?;
    let key = match map_get(map, "key") {
        None => Value::Nil,
        Some(k) => match scalar(k) {
            Scalar::Value(v) => v,
            _ => {
                return Err(ParseError::new(
                    line,
                    format!(
                        "expected an integer or a string as `:key`, found `{}`",
                        k.show()
                    ),
                ))
            }
        },
    };
    let value = map_get(map, "value").map_or(Scalar::Value(Value::Nil), scalar);
    Ok(Some(Event {
        line,
        process,
        kind,
        f,
        key,
        value,
    }))
}

fn parse_edn_events(text: &str) -> Result<ParsedHistory, ParseError> {
    let mut reader = EdnReader::new(text, 1);
    let mut forms: Vec<(usize, Edn)> = Vec::new();
    while let Some(form) = reader.read_form()? {
        forms.push(form);
    }
    // One vector or list of operations, or operation maps one after another.
    if forms.len() == 1 {
        if let (_, Edn::Vector(items) | Edn::List(items)) = &forms[0] {
            forms = items.clone();
        }
    }
    let mut pairer = Pairer::default();
    for (line, form) in &forms {
        match edn_event(*line, form)? {
            Some(ev) => pairer.push(ev)?,
            None => pairer.skipped += 1,
        }
    }
    Ok(pairer.finish())
}

// ---- JSON Lines -----------------------------------------------------------------------------

fn json_value(line: usize, v: &serde_json::Value, what: &str) -> Result<Value, ParseError> {
    match v {
        serde_json::Value::Null => Ok(Value::Nil),
        serde_json::Value::String(s) => Ok(Value::Str(s.clone())),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(Value::Int(i128::from(i)))
            } else if let Some(u) = n.as_u64() {
                Ok(Value::Int(i128::from(u)))
            } else {
                Err(ParseError::new(
                    line,
                    format!("expected an integer as {what}, found `{n}`"),
                ))
            }
        }
        other => Err(ParseError::new(
            line,
            format!("expected null, an integer or a string as {what}, found `{other}`"),
        )),
    }
}

fn json_scalar(line: usize, v: Option<&serde_json::Value>) -> Result<Scalar, ParseError> {
    match v {
        None => Ok(Scalar::Value(Value::Nil)),
        Some(serde_json::Value::Array(items)) if items.len() == 2 => Ok(Scalar::Pair(
            json_value(line, &items[0], "`value[0]`")?,
            json_value(line, &items[1], "`value[1]`")?,
        )),
        Some(
            v @ (serde_json::Value::Array(_)
            | serde_json::Value::Object(_)
            | serde_json::Value::Bool(_)),
        ) => Ok(Scalar::Other(v.to_string())),
        Some(v) => Ok(Scalar::Value(json_value(line, v, "`value`")?)),
    }
}

fn parse_jsonl(text: &str) -> Result<ParsedHistory, ParseError> {
    let mut pairer = Pairer::default();
    let mut complete: Vec<(LinOp, usize)> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(raw).map_err(|e| {
            ParseError::new(
                line,
                format!("expected a JSON object, found invalid JSON ({e})").to_lowercase(),
            )
        })?;
        let Some(obj) = v.as_object() else {
            return Err(ParseError::new(line, "expected a JSON object per line"));
        };
        let str_field = |name: &str| obj.get(name).and_then(|x| x.as_str());
        let f_name = str_field("f").ok_or_else(|| {
            ParseError::new(line, "expected an `f` field (`read`, `write`, `cas`, …)")
                .hint("lines look like `{\"process\":0,\"f\":\"write\",\"key\":1,\"value\":3,\"invoke\":10,\"complete\":20,\"type\":\"ok\"}`")
        })?;
        let f = F::parse(f_name).ok_or_else(|| {
            let hint = if f_name == "broadcast" || f_name == "read-set" {
                "only key-value histories can be checked for linearizability"
            } else {
                "see docs/linearizability.md for the JSON Lines format"
            };
            ParseError::new(
                line,
                format!("expected {F_EXPECTED} as `f`, found `{f_name}`"),
            )
            .hint(hint)
        })?;
        let process = match obj.get("process").and_then(|p| p.as_u64()) {
            Some(p) => p,
            None if obj.get("process").is_some_and(|p| p.is_string()) => {
                pairer.skipped += 1; // "nemesis"
                continue;
            }
            None => {
                return Err(ParseError::new(
                    line,
                    "expected a non-negative integer `process`",
                ))
            }
        };
        let key = match obj.get("key") {
            None => Value::Nil,
            Some(k) => json_value(line, k, "`key`")?,
        };
        let kind_name = str_field("type").unwrap_or("");
        let kind = Kind::parse(kind_name).ok_or_else(|| {
            ParseError::new(
                line,
                format!("expected `ok`, `fail`, `info` or `invoke` as `type`, found `{kind_name}`"),
            )
        })?;
        let value = json_scalar(line, obj.get("value"))?;
        if !obj.contains_key("invoke") {
            pairer.push(Event {
                line,
                process,
                kind,
                f,
                key,
                value,
            })?;
            continue;
        }
        // A complete operation.
        let invoke = obj.get("invoke").and_then(|t| t.as_u64()).ok_or_else(|| {
            ParseError::new(line, "expected a non-negative integer `invoke` time")
        })?;
        let ret = match obj.get("complete") {
            None | Some(serde_json::Value::Null) => None,
            Some(t) => Some(t.as_u64().filter(|&t| t >= invoke).ok_or_else(|| {
                ParseError::new(line, format!("expected `complete` to be null or a time ≥ `invoke` ({invoke}), found `{t}`"))
            })?),
        };
        let completion = match (kind, ret) {
            (Kind::Invoke, _) => {
                return Err(ParseError::new(line, "expected `type` `ok`, `fail` or `info` on a line with `invoke` and `complete` times"))
            }
            (_, None) | (Kind::Info, _) => Completion::Unknown,
            (Kind::Ok, Some(_)) => Completion::Ok,
            (Kind::Fail, Some(_)) => Completion::Fail,
        };
        let (input, output) = match (f, value) {
            (F::Read, Scalar::Value(v)) => {
                (Input::Read, (completion == Completion::Ok).then_some(v))
            }
            (F::Write, Scalar::Value(v)) => (Input::Write(v), None),
            (F::Append, Scalar::Value(v)) => (Input::Append(v), None),
            (F::Cas, Scalar::Pair(a, b)) => (
                Input::Cas {
                    expected: a,
                    new: b,
                },
                None,
            ),
            (f, v) => {
                return Err(ParseError::new(
                    line,
                    format!(
                        "expected {} as the `value` of a `{}`, found `{}`",
                        if f == F::Cas {
                            "`[expected, new]`"
                        } else {
                            "null, an integer or a string"
                        },
                        f_name,
                        v.show()
                    ),
                ))
            }
        };
        complete.push((
            LinOp {
                process,
                key,
                call: invoke,
                ret,
                input,
                output,
                completion,
            },
            line,
        ));
    }
    if !complete.is_empty() && !pairer.ops.is_empty() {
        let line = complete[0].1.max(pairer.lines[0]);
        return Err(ParseError::new(
            line,
            "expected either complete operations (with `invoke` times) or events, not both",
        ));
    }
    if complete.is_empty() {
        return Ok(pairer.finish());
    }
    let (ops, lines) = complete.into_iter().unzip();
    Ok(ParsedHistory {
        format: Format::Jsonl,
        ops,
        lines,
        written_by_dsim: true,
        other_events: pairer.skipped,
    })
}

// ---- Writers --------------------------------------------------------------------------------

fn json_opt(v: Option<u64>) -> String {
    v.map_or("null".to_string(), |v| v.to_string())
}

/// Writes a dsim history as JSON Lines: one complete operation per line, in invocation order.
///
/// `{"index":0,"process":1,"node":2,"f":"write","key":7,"value":5,"invoke":1000,"complete":2500,"type":"ok"}`
/// — times in simulated nanoseconds; `complete` is null for an operation still pending at the
/// end; `type` is `ok`, `fail` (definitely did not happen) or `info` (indeterminate); a read's
/// `value` is what it returned (null: absent; an array for a list built by appends); a cas's
/// is `[expected, new]`; an append's the value appended.
pub fn write_jsonl(history: &History, w: &mut dyn Write) -> std::io::Result<()> {
    for (i, op) in history.ops.iter().enumerate() {
        let (f, key, value) = match &op.request {
            Request::Get { key } => {
                let v = match &op.completion {
                    Some((_, Outcome::Ok(Response::Value(v)))) => json_opt(*v),
                    Some((_, Outcome::Ok(Response::List(vs)))) => format!(
                        "[{}]",
                        vs.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
                    ),
                    _ => "null".to_string(),
                };
                ("read", Some(*key), v)
            }
            Request::Put { key, value } => ("write", Some(*key), value.to_string()),
            Request::Append { key, value } => ("append", Some(*key), value.to_string()),
            Request::Cas { key, expected, new } => (
                "cas",
                Some(*key),
                format!("[{},{new}]", json_opt(*expected)),
            ),
            Request::Broadcast { value } => ("broadcast", None, value.to_string()),
            Request::ReadSet => {
                let v = match &op.completion {
                    Some((_, Outcome::Ok(Response::Set(s)))) => {
                        format!(
                            "[{}]",
                            s.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
                        )
                    }
                    _ => "null".to_string(),
                };
                ("read-set", None, v)
            }
            Request::Txn { keys } => {
                // A committed transaction's value is `[[key, new value], ...]`; otherwise the
                // keys it named.
                let v = match &op.completion {
                    Some((_, Outcome::Ok(Response::Committed(kv)))) => format!(
                        "[{}]",
                        kv.iter()
                            .map(|(k, v)| format!("[{k},{v}]"))
                            .collect::<Vec<_>>()
                            .join(",")
                    ),
                    _ => format!(
                        "[{}]",
                        keys.iter()
                            .map(u64::to_string)
                            .collect::<Vec<_>>()
                            .join(",")
                    ),
                };
                ("txn", None, v)
            }
        };
        let (complete, kind) = match &op.completion {
            None => (None, "info"),
            Some((t, Outcome::Ok(_))) => (Some(t.0), "ok"),
            Some((t, Outcome::Fail)) => (Some(t.0), "fail"),
            Some((t, Outcome::Unknown)) => (Some(t.0), "info"),
        };
        let key = key.map_or(String::new(), |k| format!(",\"key\":{k}"));
        writeln!(
            w,
            "{{\"index\":{i},\"process\":{},\"node\":{},\"f\":\"{f}\"{key},\"value\":{value},\"invoke\":{},\"complete\":{},\"type\":\"{kind}\"}}",
            op.client.0,
            op.node.0,
            op.invoke.0,
            json_opt(complete),
        )?;
    }
    Ok(())
}

fn edn_opt(v: Option<u64>) -> String {
    v.map_or("nil".to_string(), |v| v.to_string())
}

/// Writes a dsim history as Jepsen EDN: a vector of `:invoke` and completion events in time
/// order (`:ok`, `:fail`, or `:info` for a timeout; an operation pending at the end has no
/// completion), with `:time` in simulated nanoseconds and `:key` for the key. As in Jepsen, a
/// client that timed out continues as a new process (`client + clients × timeouts so far`), so
/// that every process has at most one open operation. The first line is a comment saying that
/// a read of `nil` means the key was absent (not Knossos's "value unknown").
pub fn write_edn(history: &History, w: &mut dyn Write) -> std::io::Result<()> {
    let clients = history
        .ops
        .iter()
        .map(|o| u64::from(o.client.0) + 1)
        .max()
        .unwrap_or(1);
    // (time, 0 invoke / 1 completion, op index, process)
    let mut timeouts: BTreeMap<u32, u64> = BTreeMap::new();
    let mut events: Vec<(u64, u8, usize, u64)> = Vec::with_capacity(history.ops.len() * 2);
    for (i, op) in history.ops.iter().enumerate() {
        let n = timeouts.entry(op.client.0).or_insert(0);
        let process = u64::from(op.client.0) + clients * *n;
        events.push((op.invoke.0, 0, i, process));
        if let Some((t, outcome)) = &op.completion {
            events.push((t.0, 1, i, process));
            if *outcome == Outcome::Unknown {
                *n += 1;
            }
        } else {
            *n += 1;
        }
    }
    // At equal times invocations come first: touching operations stay concurrent.
    events.sort_unstable();
    writeln!(
        w,
        "{EDN_DSIM_HEADER}: a read of nil means the key was absent; check with `dsim check FILE`"
    )?;
    write!(w, "[")?;
    for (n, &(time, phase, i, process)) in events.iter().enumerate() {
        let op = &history.ops[i];
        let kind = match (phase, &op.completion) {
            (0, _) => "invoke",
            (_, Some((_, Outcome::Ok(_)))) => "ok",
            (_, Some((_, Outcome::Fail))) => "fail",
            _ => "info",
        };
        let completed_ok = phase == 1 && kind == "ok";
        let (f, key, value) = match &op.request {
            Request::Get { key } => {
                let v = match &op.completion {
                    Some((_, Outcome::Ok(Response::Value(v)))) if completed_ok => edn_opt(*v),
                    Some((_, Outcome::Ok(Response::List(vs)))) if completed_ok => format!(
                        "[{}]",
                        vs.iter().map(u64::to_string).collect::<Vec<_>>().join(" ")
                    ),
                    _ => "nil".to_string(),
                };
                ("read", Some(*key), v)
            }
            Request::Put { key, value } => ("write", Some(*key), value.to_string()),
            Request::Append { key, value } => ("append", Some(*key), value.to_string()),
            Request::Cas { key, expected, new } => {
                ("cas", Some(*key), format!("[{} {new}]", edn_opt(*expected)))
            }
            Request::Broadcast { value } => ("broadcast", None, value.to_string()),
            Request::ReadSet => {
                let v = match &op.completion {
                    Some((_, Outcome::Ok(Response::Set(s)))) if completed_ok => {
                        format!(
                            "#{{{}}}",
                            s.iter().map(u64::to_string).collect::<Vec<_>>().join(" ")
                        )
                    }
                    _ => "nil".to_string(),
                };
                ("read-set", None, v)
            }
            Request::Txn { keys } => {
                let v = match &op.completion {
                    Some((_, Outcome::Ok(Response::Committed(kv)))) if completed_ok => format!(
                        "[{}]",
                        kv.iter()
                            .map(|(k, v)| format!("[{k} {v}]"))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                    _ => format!(
                        "[{}]",
                        keys.iter()
                            .map(u64::to_string)
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                };
                ("txn", None, v)
            }
        };
        let key = key.map_or(String::new(), |k| format!(", :key {k}"));
        let sep = if n == 0 { "" } else { "\n " };
        write!(
            w,
            "{sep}{{:index {n}, :time {time}, :process {process}, :type :{kind}, :f :{f}{key}, :value {value}, :node {}}}",
            op.node.0
        )?;
    }
    writeln!(w, "]")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_the_four_formats() {
        assert_eq!(
            detect("INFO  jepsen.util - 2\t:invoke\t:write\t4\n"),
            Some(Format::JepsenLog)
        );
        assert_eq!(
            detect("; comment\n[{:process 0, :type :invoke, :f :read}]"),
            Some(Format::Edn)
        );
        assert_eq!(detect("({:process 0})"), Some(Format::Edn));
        assert_eq!(
            detect("\n{:process 9, :type :invoke, :f :put, :key \"6\", :value \"x\"}\n"),
            Some(Format::Kv)
        );
        assert_eq!(detect("{\"process\":0}\n"), Some(Format::Jsonl));
        assert_eq!(detect("hello\n"), None);
    }

    #[test]
    fn reads_jepsen_log_lines() {
        let text = "INFO  jepsen.util - 2\t:invoke\t:cas\t[3 0]\n\
                    INFO  jepsen.util - 1   :invoke   :read   nil\n\
                    INFO  jepsen.util - 1\t:ok\t:read\tnil\n\
                    INFO  jepsen.util - 2\t:fail\t:cas\t[3 0]\n\
                    INFO  jepsen.util - 4\t:invoke\t:write\t7\n\
                    INFO  jepsen.util - 4\t:info\t:write\t:timed-out\n";
        let h = parse(text, Format::Auto).expect("parses");
        assert_eq!(h.format, Format::JepsenLog);
        assert_eq!(h.ops.len(), 3);
        assert_eq!(
            h.ops[0].input,
            Input::Cas {
                expected: Value::Int(3),
                new: Value::Int(0)
            }
        );
        assert_eq!(
            (h.ops[0].call, h.ops[0].ret, h.ops[0].completion),
            (0, Some(3), Completion::Fail)
        );
        assert_eq!(h.ops[1].output, Some(Value::Nil));
        assert_eq!(h.ops[2].completion, Completion::Unknown);
        assert_eq!(h.lines, vec![1, 2, 5]);
    }

    #[test]
    fn reads_knossos_edn_with_comments_lists_and_nemesis_events() {
        let text = "; a comment\n(\n {:type :invoke, :f :write, :value 0, :process 0}\n\
                    {:process :nemesis, :type :info, :f :start, :value \"Cut off [:n3 #{:n4}]\"}\n\
                    {:process 0  :type :ok, :f :write, :value 0}\n\
                    {:process 1, :type :invoke, :f :read, :value nil}\n)";
        let h = parse(text, Format::Auto).expect("parses");
        assert_eq!(h.format, Format::Edn);
        assert_eq!(h.ops.len(), 2);
        assert_eq!(h.lines, vec![3, 6]);
        assert_eq!((h.ops[0].call, h.ops[0].ret), (0, Some(1)));
        let text = "[{:process 0, :type :invoke, :f :read, :value nil}\n {:process 0, :type :ok, :f :read, :value 3}\n {:process 1 :type :invoke :f :cas :value [1 2] :error [:x nil]}]";
        let h = parse(text, Format::Auto).expect("parses");
        assert_eq!(h.ops.len(), 2);
        assert_eq!(h.ops[0].output, Some(Value::Int(3)));
        assert_eq!(h.ops[1].completion, Completion::Unknown);
        assert_eq!(h.ops[1].ret, None);
        assert_eq!(h.lines, vec![1, 3]);
    }

    #[test]
    fn reads_porcupine_kv_lines() {
        let text = "{:process 9, :type :invoke, :f :append, :key \"0\", :value \"x 9 0 y\"}\n\
                    {:process 1, :type :invoke, :f :get, :key \"9\", :value nil}\n\
                    {:process 1, :type :ok, :f :get, :key \"9\", :value \"\"}\n\
                    {:process 9, :type :ok, :f :append, :key \"0\", :value \"x 9 0 y\"}\n";
        let h = parse(text, Format::Auto).expect("parses");
        assert_eq!(h.format, Format::Kv);
        assert_eq!(h.key_count(), 2);
        assert_eq!(h.ops[0].input, Input::Append(Value::Str("x 9 0 y".into())));
        assert_eq!(h.ops[1].output, Some(Value::Str(String::new())));
    }

    #[test]
    fn malformed_lines_name_the_line_and_what_was_expected() {
        let e = parse("INFO  jepsen.util - 2\t:invoke\t:cas\t3\n", Format::Auto).unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.message.contains("`[expected new]`"), "{e}");
        let e = parse(
            "[{:process 0, :type :invoke, :f :read}\n {:process 0, :type :invoke, :f :read}]",
            Format::Auto,
        )
        .unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("still open"), "{e}");
        let e = parse(
            "[{:process 0, :type :invoke, :f :read}\n {:process 0 :type}]",
            Format::Auto,
        )
        .unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("even number"), "{e}");
        let e = parse("[{:process 0, :type :invoke, :f :read}\n", Format::Auto).unwrap_err();
        assert!(e.message.contains("expected `]`"), "{e}");
        let e = parse("{\"process\":0,\"f\":\"write\",\"value\":1,\"invoke\":5,\"complete\":3,\"type\":\"ok\"}\n", Format::Auto)
            .unwrap_err();
        assert!(e.message.contains("`complete`"), "{e}");
        let e = parse("{\"process\":0,\"f\":\"write\"\n", Format::Jsonl).unwrap_err();
        assert!(e.message.contains("expected a json object"), "{e}");
        let e = parse("{\"process\":0,\"f\":\"broadcast\",\"value\":1,\"invoke\":5,\"complete\":6,\"type\":\"ok\"}\n", Format::Auto)
            .unwrap_err();
        assert!(e.hint.as_deref().unwrap_or("").contains("key-value"), "{e}");
    }
}
