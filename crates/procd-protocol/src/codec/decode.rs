//! Reading XML-RPC documents: a bounded element tree built with an explicit stack, then typed values.

use std::borrow::Cow;
use std::num::IntErrorKind;

use base64::Engine as _;
use base64::engine::general_purpose::GeneralPurpose;
use base64::engine::{DecodePaddingMode, GeneralPurposeConfig};
use quick_xml::Reader;
use quick_xml::events::Event;

use super::{DecodeError, MAX_DEPTH, MethodCall, Response};
use crate::fault::Fault;
use crate::value::Value;

/// Decodes a `<methodCall>` (a missing `<params>` means no parameters).
pub fn decode_call(data: &[u8]) -> Result<MethodCall, DecodeError> {
    let root = parse_tree(data)?;
    expect_name(&root, "methodCall")?;
    let mut method = None;
    let mut params = Vec::new();
    for child in &root.children {
        match child.name.as_ref() {
            "methodName" => method = Some(child.text.clone()),
            "params" => params = decode_params(child)?,
            _ => return Err(unexpected("methodName", child)),
        }
    }
    match method {
        Some(method) if !method.is_empty() => Ok(MethodCall {
            method: method.into_owned(),
            params,
        }),
        _ => Err(DecodeError::NoMethodName),
    }
}

/// Decodes a `<methodResponse>`: the outer error is a broken document, the inner one a fault.
pub fn decode_response(data: &[u8]) -> Result<Response, DecodeError> {
    let root = parse_tree(data)?;
    expect_name(&root, "methodResponse")?;
    let [body] = root.children.as_slice() else {
        return Err(DecodeError::ResponseArity(root.children.len()));
    };
    match body.name.as_ref() {
        "params" => {
            let mut params = decode_params(body)?;
            match params.len() {
                1 => Ok(Ok(params.remove(0))),
                n => Err(DecodeError::ResponseArity(n)),
            }
        }
        "fault" => {
            let value_node = only_child(body, "fault", "value")?;
            let value = decode_value(value_node)?;
            Fault::from_value(&value)
                .map(Err)
                .ok_or(DecodeError::BadFault)
        }
        _ => Err(unexpected("params", body)),
    }
}

/// One element: its local name, its character data (concatenated) and its child elements. Names and
/// text borrow from the document where they can: a large response (`getAllProcessInfo` with 10,000
/// processes has over half a million elements) is then read without two allocations per element.
#[derive(Debug, Default)]
struct Node<'a> {
    name: Cow<'a, str>,
    text: Cow<'a, str>,
    children: Vec<Node<'a>>,
}

/// An element's local name; the names XML-RPC uses are not copied.
fn element_name<'a>(local: &[u8]) -> Result<Cow<'a, str>, DecodeError> {
    const KNOWN: [&str; 21] = [
        "value",
        "member",
        "name",
        "string",
        "int",
        "struct",
        "array",
        "data",
        "param",
        "params",
        "boolean",
        "i4",
        "i8",
        "double",
        "dateTime.iso8601",
        "base64",
        "nil",
        "methodCall",
        "methodName",
        "methodResponse",
        "fault",
    ];
    let name = utf8(local)?;
    Ok(match KNOWN.iter().find(|k| **k == name) {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(name.to_owned()),
    })
}

fn parse_tree(data: &[u8]) -> Result<Node<'_>, DecodeError> {
    let mut reader = Reader::from_reader(data);
    let mut stack: Vec<Node<'_>> = Vec::new();
    let mut root: Option<Node<'_>> = None;
    loop {
        let event = reader.read_event().map_err(xml_error)?;
        match event {
            Event::Start(start) => {
                if root.is_some() {
                    return Err(DecodeError::OutsideRoot);
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(DecodeError::TooDeep);
                }
                stack.push(Node {
                    name: element_name(start.local_name().as_ref())?,
                    ..Node::default()
                });
            }
            Event::Empty(empty) => {
                let node = Node {
                    name: element_name(empty.local_name().as_ref())?,
                    ..Node::default()
                };
                if stack.len() >= MAX_DEPTH {
                    return Err(DecodeError::TooDeep);
                }
                attach(&mut stack, &mut root, node)?;
            }
            Event::End(_) => {
                // quick-xml has already checked that the end tag matches the open element.
                let node = stack.pop().ok_or(DecodeError::OutsideRoot)?;
                attach(&mut stack, &mut root, node)?;
            }
            Event::Text(text) => {
                let raw = normalize_newlines(utf8_cow(text.into_inner())?);
                let unescaped = match raw {
                    Cow::Borrowed(raw) => {
                        quick_xml::escape::unescape(raw).map_err(|e| xml_error(e.into()))?
                    }
                    Cow::Owned(raw) => Cow::Owned(
                        quick_xml::escape::unescape(&raw)
                            .map_err(|e| xml_error(e.into()))?
                            .into_owned(),
                    ),
                };
                append_text(&mut stack, unescaped)?;
            }
            Event::CData(cdata) => {
                let raw = normalize_newlines(utf8_cow(cdata.into_inner())?);
                append_text(&mut stack, raw)?;
            }
            Event::DocType(_) => return Err(DecodeError::Doctype),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.pop() {
        return Err(DecodeError::Unclosed(open.name.into_owned()));
    }
    root.ok_or(DecodeError::NoRoot)
}

fn attach<'a>(
    stack: &mut [Node<'a>],
    root: &mut Option<Node<'a>>,
    node: Node<'a>,
) -> Result<(), DecodeError> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(node),
        None if root.is_none() => *root = Some(node),
        None => return Err(DecodeError::OutsideRoot),
    }
    Ok(())
}

fn append_text<'a>(stack: &mut [Node<'a>], text: Cow<'a, str>) -> Result<(), DecodeError> {
    match stack.last_mut() {
        // The first piece is kept as it is (borrowed from the document when it has no escapes).
        Some(node) if node.text.is_empty() => node.text = text,
        Some(node) => node.text.to_mut().push_str(&text),
        None if text.chars().all(is_xml_space) => {}
        None => return Err(DecodeError::OutsideRoot),
    }
    Ok(())
}

fn decode_params(params: &Node) -> Result<Vec<Value>, DecodeError> {
    params
        .children
        .iter()
        .map(|param| {
            if param.name != "param" {
                return Err(unexpected("param", param));
            }
            decode_value(only_child(param, "param", "value")?)
        })
        .collect()
}

/// Converts a `<value>` element. Recursion depth is bounded by the tree depth, itself at most `MAX_DEPTH`.
fn decode_value(node: &Node) -> Result<Value, DecodeError> {
    expect_name(node, "value")?;
    match node.children.as_slice() {
        [] => Ok(Value::String(node.text.to_string())),
        [typed] => decode_typed(typed),
        _ => Err(DecodeError::AmbiguousValue),
    }
}

fn decode_typed(node: &Node) -> Result<Value, DecodeError> {
    let name = node.name.as_ref();
    let scalar = !matches!(name, "struct" | "array");
    match node.children.first() {
        Some(child) if scalar => return Err(unexpected("text", child)),
        _ => {}
    }
    match name {
        "int" | "i4" | "i8" => parse_int(&node.text).map(Value::Int),
        "boolean" => match node.text.trim_matches(is_xml_space) {
            "1" => Ok(Value::Bool(true)),
            "0" => Ok(Value::Bool(false)),
            t if t.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            t if t.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            _ => Err(invalid("boolean", &node.text)),
        },
        "string" => Ok(Value::String(node.text.to_string())),
        "double" => node
            .text
            .trim_matches(is_xml_space)
            .parse::<f64>()
            .map(Value::Double)
            .map_err(|_| invalid("double", &node.text)),
        "dateTime.iso8601" => Ok(Value::DateTime(
            node.text.trim_matches(is_xml_space).to_owned(),
        )),
        "base64" => decode_base64(&node.text).map(Value::Base64),
        "nil" => Ok(Value::Nil),
        "struct" => node
            .children
            .iter()
            .map(decode_member)
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Struct),
        "array" => {
            let data = only_child(node, "array", "data")?;
            data.children
                .iter()
                .map(decode_value)
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        other => Err(DecodeError::UnknownType(shorten(other))),
    }
}

fn decode_member(member: &Node) -> Result<(crate::value::Name, Value), DecodeError> {
    if member.name != "member" {
        return Err(unexpected("member", member));
    }
    let mut name = None;
    let mut value = None;
    for child in &member.children {
        match child.name.as_ref() {
            "name" if name.is_none() => name = Some(member_name(&child.text)),
            "value" if value.is_none() => value = Some(decode_value(child)?),
            _ => return Err(unexpected("name", child)),
        }
    }
    let name = name.ok_or(DecodeError::Missing {
        parent: "member",
        child: "name",
    })?;
    let value = value.ok_or(DecodeError::Missing {
        parent: "member",
        child: "value",
    })?;
    Ok((name, value))
}

/// A struct member's name; the names of supervisord's structs are not copied.
fn member_name(name: &str) -> crate::value::Name {
    const KNOWN: [&str; 20] = [
        "name",
        "group",
        "start",
        "stop",
        "now",
        "state",
        "statename",
        "spawnerr",
        "exitstatus",
        "logfile",
        "stdout_logfile",
        "stderr_logfile",
        "pid",
        "description",
        "status",
        "faultCode",
        "faultString",
        "methodName",
        "params",
        "statecode",
    ];
    match KNOWN.iter().find(|k| **k == name) {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(name.to_owned()),
    }
}

/// Integers as Python's `int()` reads them (surrounding whitespace, optional sign); 32-bit only.
fn parse_int(text: &str) -> Result<i32, DecodeError> {
    let trimmed = text.trim_matches(is_xml_space);
    match trimmed.parse::<i64>() {
        Ok(wide) => i32::try_from(wide).map_err(|_| DecodeError::IntOutOfRange(shorten(trimmed))),
        Err(e)
            if matches!(
                e.kind(),
                IntErrorKind::PosOverflow | IntErrorKind::NegOverflow
            ) =>
        {
            Err(DecodeError::IntOutOfRange(shorten(trimmed)))
        }
        Err(_) => Err(invalid("int", text)),
    }
}

/// Base64 as Python's `decodebytes` accepts it: line breaks and blanks anywhere, padding optional.
fn decode_base64(text: &str) -> Result<Vec<u8>, DecodeError> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    LENIENT
        .decode(compact.as_bytes())
        .map_err(|_| invalid("base64", text))
}

fn only_child<'n, 'a>(
    node: &'n Node<'a>,
    parent: &'static str,
    child: &'static str,
) -> Result<&'n Node<'a>, DecodeError> {
    match node.children.as_slice() {
        [only] if only.name == child => Ok(only),
        [] => Err(DecodeError::Missing { parent, child }),
        [first, ..] if first.name != child => Err(unexpected(child, first)),
        [_, extra, ..] => Err(unexpected(child, extra)),
        [only] => Err(unexpected(child, only)),
    }
}

fn expect_name(node: &Node, expected: &'static str) -> Result<(), DecodeError> {
    if node.name == expected {
        Ok(())
    } else {
        Err(unexpected(expected, node))
    }
}

fn unexpected(expected: &'static str, found: &Node) -> DecodeError {
    DecodeError::UnexpectedElement {
        expected,
        found: shorten(&found.name),
    }
}

fn invalid(kind: &'static str, text: &str) -> DecodeError {
    DecodeError::InvalidScalar {
        kind,
        text: shorten(text),
    }
}

fn xml_error(e: quick_xml::Error) -> DecodeError {
    DecodeError::Xml(e.to_string())
}

fn utf8(bytes: &[u8]) -> Result<&str, DecodeError> {
    std::str::from_utf8(bytes).map_err(|e| DecodeError::Xml(format!("invalid UTF-8: {e}")))
}

/// [`utf8`] keeping a borrowed slice borrowed.
fn utf8_cow(bytes: Cow<'_, [u8]>) -> Result<Cow<'_, str>, DecodeError> {
    Ok(match bytes {
        Cow::Borrowed(b) => Cow::Borrowed(utf8(b)?),
        Cow::Owned(b) => Cow::Owned(utf8(&b)?.to_owned()),
    })
}

/// XML end-of-line handling: `\r\n` and lone `\r` become `\n` (character references are not affected).
fn normalize_newlines(text: Cow<'_, str>) -> Cow<'_, str> {
    if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n").into()
    } else {
        text
    }
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Bounds quoted input in error messages.
fn shorten(text: &str) -> String {
    const LIMIT: usize = 64;
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}
