//! A parser for the Python literals of the Amazon 2014 metadata files
//! (`{'asin': '...', 'categories': [['Beauty']], 'price': 12.5, ...}`), which are
//! `repr()` output rather than JSON: single-quoted strings, tuples, `True`,
//! `False`, `None`.

use serde_json::{Map, Number, Value};

/// Parses one Python literal (dict, list, tuple, str, int, float, bool, None) into JSON.
pub fn parse_python_literal(input: &str) -> Result<Value, String> {
    let mut p = Parser { s: input.as_bytes(), src: input, pos: 0, depth: 0 };
    let v = p.value()?;
    p.ws();
    if p.pos != p.s.len() {
        return Err(format!("unexpected `{}` at column {}", p.rest_preview(), p.pos + 1));
    }
    Ok(v)
}

/// The deepest nesting of dicts and lists accepted: real meta lines nest two or three
/// levels, and an unbounded depth would overflow the stack (an abort, not an error).
const MAX_DEPTH: usize = 128;

struct Parser<'a> {
    /// Dicts and lists open at the current position.
    depth: usize,
    s: &'a [u8],
    src: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn rest_preview(&self) -> String {
        self.src[self.pos..].chars().take(12).collect()
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        if self.pos >= self.s.len() {
            Err(format!("{what}: the line ends early"))
        } else {
            Err(format!("{what} at column {} (`{}`)", self.pos + 1, self.rest_preview()))
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        self.ws();
        match self.s.get(self.pos) {
            Some(b'{' | b'[' | b'(') if self.depth >= MAX_DEPTH => {
                self.err(&format!("more than {MAX_DEPTH} nested dicts or lists"))
            }
            Some(b'{') => self.nested(Self::dict),
            Some(b'[') => self.nested(|p| p.seq(b']')),
            Some(b'(') => self.nested(|p| p.seq(b')')),
            Some(b'\'' | b'"') => self.string().map(Value::String),
            Some(b'u' | b'b') if matches!(self.s.get(self.pos + 1), Some(b'\'' | b'"')) => {
                self.pos += 1;
                self.string().map(Value::String)
            }
            Some(c) if c.is_ascii_digit() || *c == b'-' || *c == b'+' || *c == b'.' => self.number(),
            Some(_) => self.word(),
            None => self.err("expected a value"),
        }
    }

    fn nested(&mut self, parse: impl FnOnce(&mut Self) -> Result<Value, String>) -> Result<Value, String> {
        self.depth += 1;
        let value = parse(self);
        self.depth -= 1;
        value
    }

    fn dict(&mut self) -> Result<Value, String> {
        self.pos += 1;
        let mut map = Map::new();
        loop {
            self.ws();
            if self.s.get(self.pos) == Some(&b'}') {
                self.pos += 1;
                return Ok(Value::Object(map));
            }
            let key = match self.value()? {
                Value::String(s) => s,
                other => other.to_string(),
            };
            self.ws();
            if self.s.get(self.pos) != Some(&b':') {
                return self.err("expected `:` in a dict");
            }
            self.pos += 1;
            let v = self.value()?;
            map.insert(key, v);
            self.ws();
            match self.s.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {}
                _ => return self.err("expected `,` or `}` in a dict"),
            }
        }
    }

    fn seq(&mut self, close: u8) -> Result<Value, String> {
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.ws();
            if self.s.get(self.pos) == Some(&close) {
                self.pos += 1;
                return Ok(Value::Array(items));
            }
            items.push(self.value()?);
            self.ws();
            match self.s.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(c) if *c == close => {}
                _ => return self.err("expected `,` or the end of a list"),
            }
        }
    }

    fn string(&mut self) -> Result<String, String> {
        let quote = self.s[self.pos];
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(&c) = self.s.get(self.pos) else {
                return self.err("unterminated string");
            };
            if c == quote {
                self.pos += 1;
                return Ok(out);
            }
            if c == b'\\' {
                self.pos += 1;
                let Some(&e) = self.s.get(self.pos) else { return self.err("unterminated escape") };
                self.pos += 1;
                match e {
                    b'n' => out.push('\n'),
                    b't' => out.push('\t'),
                    b'r' => out.push('\r'),
                    b'0' => out.push('\0'),
                    b'\\' | b'\'' | b'"' => out.push(e as char),
                    b'x' => out.push(self.hex_char(2)?),
                    b'u' => out.push(self.hex_char(4)?),
                    b'U' => out.push(self.hex_char(8)?),
                    b'\n' => {}
                    _ => {
                        // An unknown escape keeps its backslash, as in Python. The
                        // character after it may be any UTF-8, not just one byte.
                        let ch = self.src[self.pos - 1..].chars().next().unwrap_or(char::REPLACEMENT_CHARACTER);
                        self.pos += ch.len_utf8() - 1;
                        out.push('\\');
                        out.push(ch);
                    }
                }
                continue;
            }
            // Copy a run of plain UTF-8 up to the next quote or backslash.
            let start = self.pos;
            while self.pos < self.s.len() && self.s[self.pos] != quote && self.s[self.pos] != b'\\' {
                self.pos += 1;
            }
            out.push_str(&self.src[start..self.pos]);
        }
    }

    fn hex_char(&mut self, digits: usize) -> Result<char, String> {
        let Some(hex) = self.src.get(self.pos..self.pos + digits) else {
            return self.err("short \\x/\\u escape");
        };
        let code = u32::from_str_radix(hex, 16).or_else(|_| self.err("bad hex escape"))?;
        self.pos += digits;
        Ok(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER))
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.pos;
        while self.pos < self.s.len() && matches!(self.s[self.pos], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
            self.pos += 1;
        }
        let text = &self.src[start..self.pos];
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Value::Number(i.into()));
        }
        match text.parse::<f64>().ok().and_then(Number::from_f64) {
            Some(n) => Ok(Value::Number(n)),
            None => {
                self.pos = start;
                self.err("bad number")
            }
        }
    }

    fn word(&mut self) -> Result<Value, String> {
        for (w, v) in [("True", Value::Bool(true)), ("False", Value::Bool(false)), ("None", Value::Null)] {
            if self.src[self.pos..].starts_with(w) {
                self.pos += w.len();
                return Ok(v);
            }
        }
        self.err("expected a value")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_amazon_2014_meta_lines() {
        let line = r#"{'asin': '0205616461', 'description': "It's \"great\" \xe9", 'title': 'Bath &amp; Body', 'salesRank': {'Beauty': 10486}, 'categories': [['Beauty', 'Skin Care'], ('x',)], 'price': 12.5, 'ok': True, 'n': None}"#;
        let v = parse_python_literal(line).unwrap();
        assert_eq!(v["asin"], "0205616461");
        assert_eq!(v["description"], "It's \"great\" é");
        assert_eq!(v["categories"][0][1], "Skin Care");
        assert_eq!(v["categories"][1][0], "x");
        assert_eq!(v["price"], 12.5);
        assert_eq!(v["salesRank"]["Beauty"], 10486);
        assert_eq!(v["ok"], true);
        assert!(v["n"].is_null());
    }

    #[test]
    fn reports_bad_input() {
        assert!(parse_python_literal("{'a': 'unterminated}").unwrap_err().contains("ends early"));
        assert!(parse_python_literal("{'a' 1}").unwrap_err().contains("`:`"));
        assert!(parse_python_literal("{'a': 1} trailing").is_err());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        // Found by the property tests: 20,000 `[` aborted the process.
        assert!(parse_python_literal(&"[".repeat(20_000)).unwrap_err().contains("nested"));
        let ok = format!("{}1{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse_python_literal(&ok).is_ok());
    }

    #[test]
    fn an_unknown_escape_before_a_multibyte_character_keeps_both() {
        // Found by the property tests: this panicked slicing inside `é`.
        assert_eq!(parse_python_literal("'a\\é b'").unwrap(), "a\\é b");
        assert_eq!(parse_python_literal("['\\€']").unwrap()[0], "\\€");
    }
}
