//! Item text: the fields of an item's metadata joined into one cleaned string.
//!
//! As DESIGN.md fixes it: title, features, categories, description, in that order;
//! a list field is joined with ", " and ended with "."; HTML entities are
//! unescaped, tags removed and whitespace collapsed; a missing or empty field is
//! skipped. The authors' code also replaces non-ASCII characters with spaces; we
//! keep them (the sentence encoder's tokenizer normalises accents itself) unless
//! [`TextOptions::ascii_only`] asks otherwise.

/// One field of item metadata.
#[derive(Clone, Debug, PartialEq)]
pub enum Field {
    /// A single string (a title, a brand).
    Text(String),
    /// A list of strings (features, categories, description paragraphs).
    List(Vec<String>),
}

/// How item text is cleaned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TextOptions {
    /// Replace every non-ASCII character with a space, as the authors' code does.
    #[serde(default)]
    pub ascii_only: bool,
}

/// Cleans one string: HTML unescaping, tag removal, whitespace collapse.
pub fn clean(raw: &str, options: TextOptions) -> String {
    // Unescape first so that escaped tags (`&lt;br&gt;`) are removed too.
    let unescaped = html_escape::decode_html_entities(raw);
    let mut out = String::with_capacity(unescaped.len());
    let mut rest: &str = &unescaped;
    while let Some(c) = rest.chars().next() {
        // A tag is `<` up to the next `>` with no `<` in between (the regex
        // `<[^<>]*>`); a lone `<` as in "size < 5 ml" stays.
        if c == '<' {
            if let Some(close) = rest[1..].find(['<', '>']) {
                if rest.as_bytes()[1 + close] == b'>' {
                    out.push(' ');
                    rest = &rest[close + 2..];
                    continue;
                }
            }
        }
        if options.ascii_only && !c.is_ascii() {
            out.push(' ');
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    collapse_whitespace(&out)
}

/// Collapses runs of whitespace into one space and trims both ends.
pub fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Builds an item's text from its fields, in the given order.
pub fn item_text<'a>(fields: impl IntoIterator<Item = &'a Field>, options: TextOptions) -> String {
    let mut parts: Vec<String> = Vec::new();
    for field in fields {
        match field {
            Field::Text(s) => {
                let s = clean(s, options);
                if !s.is_empty() {
                    parts.push(s);
                }
            }
            Field::List(items) => {
                let items: Vec<String> =
                    items.iter().map(|s| clean(s, options)).filter(|s| !s.is_empty()).collect();
                if !items.is_empty() {
                    let mut joined = items.join(", ");
                    if !joined.ends_with('.') {
                        joined.push('.');
                    }
                    parts.push(joined);
                }
            }
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, expected: &str) {
        assert_eq!(clean(raw, TextOptions::default()), expected, "cleaning {raw:?}");
    }

    #[test]
    fn cleans_html_and_whitespace() {
        check("Tom &amp; Jerry", "Tom & Jerry");
        check("<b>Bold</b>\n\n  text", "Bold text");
        check("a&lt;br&gt;b", "a b");
        check("caf&eacute; &#233; &#xE9;", "café é é");
        check("   ", "");
        check("line<br/>break", "line break");
        check("size < 5 ml > 3 ml", "size 3 ml");
        check("a < b", "a < b");
    }

    #[test]
    fn ascii_only_replaces_non_ascii() {
        assert_eq!(clean("café au lait", TextOptions { ascii_only: true }), "caf au lait");
    }

    #[test]
    fn joins_fields_in_order() {
        let fields = [
            Field::Text("Lipstick &amp; Gloss".into()),
            Field::List(vec!["Long lasting".into(), "Matte".into()]),
            Field::List(vec![]),
            Field::List(vec!["Beauty".into(), "Makeup".into()]),
            Field::List(vec!["<p>A red lipstick.</p>".into()]),
        ];
        assert_eq!(
            item_text(&fields, TextOptions::default()),
            "Lipstick & Gloss Long lasting, Matte. Beauty, Makeup. A red lipstick."
        );
    }
}
