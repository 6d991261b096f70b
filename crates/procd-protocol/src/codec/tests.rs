//! Codec tests: golden bytes captured from Python's `xmlrpc.client.dumps`, a live comparison against the
//! reference interpreter when it is installed, and decoder edge cases.

use std::path::PathBuf;
use std::process::Command;

use super::encode::python_float_repr;
use super::*;
use crate::fault::FaultCode;

fn response(body: &str) -> String {
    format!(
        "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n{body}</param>\n</params>\n</methodResponse>\n"
    )
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).expect("encoder writes UTF-8")
}

// ---- golden bytes (captured from Python 3.11 `xmlrpc.client.dumps`) ----

#[test]
fn golden_struct_response() {
    let value = Value::structure([
        ("name", Value::from("cat")),
        ("n", Value::Int(-1)),
        ("ok", Value::Bool(true)),
        (
            "l",
            Value::array([Value::Double(1.5), Value::from("a&b<c>")]),
        ),
        ("e", Value::Struct(vec![])),
    ]);
    let expected = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><struct>\n<member>\n<name>name</name>\n<value><string>cat</string></value>\n</member>\n<member>\n<name>n</name>\n<value><int>-1</int></value>\n</member>\n<member>\n<name>ok</name>\n<value><boolean>1</boolean></value>\n</member>\n<member>\n<name>l</name>\n<value><array><data>\n<value><double>1.5</double></value>\n<value><string>a&amp;b&lt;c&gt;</string></value>\n</data></array></value>\n</member>\n<member>\n<name>e</name>\n<value><struct>\n</struct></value>\n</member>\n</struct></value>\n</param>\n</params>\n</methodResponse>\n";
    assert_eq!(text(encode_response(&value)), expected);
    assert_eq!(decode_response(expected.as_bytes()), Ok(Ok(value)));
}

#[test]
fn golden_scalars() {
    let cases = [
        (Value::Int(7), "<value><int>7</int></value>\n"),
        (
            Value::DateTime("20240101T12:00:00".into()),
            "<value><dateTime.iso8601>20240101T12:00:00</dateTime.iso8601></value>\n",
        ),
        (
            Value::Base64((0..60).collect()),
            "<value><base64>\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\nOTo7\n</base64></value>\n",
        ),
        (Value::Nil, "<value><nil/></value>"),
    ];
    for (value, body) in cases {
        let expected = response(body);
        assert_eq!(text(encode_response(&value)), expected, "{value:?}");
        assert_eq!(decode_response(expected.as_bytes()), Ok(Ok(value)));
    }
}

#[test]
fn golden_fault_and_calls() {
    let fault = Fault::new(FaultCode::BadName, Some("foo"));
    let expected = "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>10</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>BAD_NAME: foo</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n";
    assert_eq!(text(encode_fault(&fault)), expected);
    assert_eq!(decode_response(expected.as_bytes()), Ok(Err(fault)));

    let call = MethodCall::new("system.listMethods", vec![]);
    let expected = "<?xml version='1.0'?>\n<methodCall>\n<methodName>system.listMethods</methodName>\n<params>\n</params>\n</methodCall>\n";
    assert_eq!(text(encode_call(&call)), expected);
    assert_eq!(decode_call(expected.as_bytes()), Ok(call));

    let call = MethodCall::new(
        "supervisor.startProcess",
        vec![Value::from("cat"), Value::Bool(true)],
    );
    let expected = "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.startProcess</methodName>\n<params>\n<param>\n<value><string>cat</string></value>\n</param>\n<param>\n<value><boolean>1</boolean></value>\n</param>\n</params>\n</methodCall>\n";
    assert_eq!(text(encode_call(&call)), expected);
    assert_eq!(decode_call(expected.as_bytes()), Ok(call));
}

#[test]
fn float_repr_matches_python_spelling() {
    let cases = [
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (1.0, "1.0"),
        (0.1, "0.1"),
        (1e16, "1e+16"),
        (1e15, "1000000000000000.0"),
        (1.5e-7, "1.5e-07"),
        (1e-4, "0.0001"),
        (1e300, "1e+300"),
        (5e-324, "5e-324"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
        (f64::NAN, "nan"),
    ];
    for (d, expected) in cases {
        assert_eq!(python_float_repr(d), expected);
    }
}

#[test]
fn strings_python_cannot_carry_are_documented_differences() {
    let v = Value::from("a\rb\u{1b}[0m\u{0}c\u{FFFE}");
    let body = text(encode_response(&v));
    assert!(
        body.contains("<string>a&#13;b\u{FFFD}[0m\u{FFFD}c\u{FFFD}</string>"),
        "{body}"
    );
    assert_eq!(
        decode_response(body.as_bytes()),
        Ok(Ok(Value::from("a\rb\u{FFFD}[0m\u{FFFD}c\u{FFFD}")))
    );
}

#[test]
fn escaping_is_the_same_wherever_the_first_special_character_is() {
    // The encoder copies the plain prefix of a string in one piece; whatever follows it must be
    // escaped exactly as when it starts the string.
    let specials = [
        "&", "<", ">", "\r", "\u{1}", "\u{FFFE}", "\u{FFFF}", "\u{EFFF}", "\t", "\n",
    ];
    let escaped = [
        "&amp;", "&lt;", "&gt;", "&#13;", "\u{FFFD}", "\u{FFFD}", "\u{FFFD}", "\u{EFFF}", "\t",
        "\n",
    ];
    for (special, want) in specials.iter().zip(escaped) {
        for prefix in ["", "plain ", "é ü ", "\u{10348}"] {
            let v = Value::from(format!("{prefix}{special}x{special}").as_str());
            let body = text(encode_response(&v));
            let expected = format!("<string>{prefix}{want}x{want}</string>");
            assert!(
                body.contains(&expected),
                "{special:?} after {prefix:?}: {body}"
            );
        }
    }
}

// ---- live comparison with the reference interpreter ----

/// The reference Python with supervisor 4.3.0 (`PROCD_TEST_PYTHON`, else the project's `.venv`, which
/// `tests/run-all.sh` installs); a missing one fails the test.
fn reference_python() -> PathBuf {
    let path = std::env::var_os("PROCD_TEST_PYTHON").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python"),
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "reference python not found at {} (set PROCD_TEST_PYTHON or run tests/run-all.sh)",
        path.display()
    );
    path
}

fn unhex(line: &str) -> Vec<u8> {
    (0..line.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&line[i..i + 2], 16).expect("hex from python"))
        .collect()
}

/// Each case: our value and the same value as a Python expression.
fn live_cases() -> Vec<(Value, &'static str)> {
    let mut cases = vec![
        (Value::Int(0), "0"),
        (Value::Int(i32::MIN), "-2147483648"),
        (Value::Int(i32::MAX), "2147483647"),
        (Value::Bool(true), "True"),
        (Value::Bool(false), "False"),
        (Value::from(""), "''"),
        (Value::from("a&b<c>d\"e'f"), r#"'a&b<c>d"e\'f'"#),
        (Value::from("héllo ✓ 𝄞"), "'héllo ✓ 𝄞'"),
        (Value::from("tab\tnl\n  sp"), r"'tab\tnl\n  sp'"),
        (
            Value::DateTime("20240101T12:00:00".into()),
            "xmlrpc.client.DateTime('20240101T12:00:00')",
        ),
        (Value::Base64(vec![]), "b''"),
        (Value::Base64(b"abc".to_vec()), "b'abc'"),
        (Value::Base64(vec![0; 57]), "bytes(57)"),
        (Value::Base64((0..=255).collect()), "bytes(range(256))"),
        (Value::Struct(vec![]), "{}"),
        (Value::Array(vec![]), "[]"),
        (
            Value::array([Value::Array(vec![]), Value::Struct(vec![])]),
            "[[], {}]",
        ),
        (
            Value::structure([
                ("z&<>", Value::Int(1)),
                ("a", Value::array([Value::from("x"), Value::Bool(false)])),
                (
                    "nested",
                    Value::structure([("deep", Value::array([Value::Double(2.5)]))]),
                ),
            ]),
            "{'z&<>': 1, 'a': ['x', False], 'nested': {'deep': [2.5]}}",
        ),
        (Value::Nil, "None"),
    ];
    let doubles: [(f64, &str); 17] = [
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (1.0, "1.0"),
        (0.1, "0.1"),
        (1e16, "1e16"),
        (1e15, "1e15"),
        (9999999999999998.0, "9999999999999998.0"),
        (1.5e-7, "1.5e-7"),
        (1e-4, "1e-4"),
        (9.9e-5, "9.9e-5"),
        (123456789.125, "123456789.125"),
        (1e300, "1e300"),
        (f64::MAX, "1.7976931348623157e308"),
        (5e-324, "5e-324"),
        (-2.5e-10, "-2.5e-10"),
        (f64::INFINITY, "float('inf')"),
        (f64::NEG_INFINITY, "float('-inf')"),
    ];
    cases.extend(doubles.into_iter().map(|(d, py)| (Value::Double(d), py)));
    cases
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn encoding_matches_python_dumps_byte_for_byte() {
    let python = reference_python();
    let cases = live_cases();
    let mut script = String::from("import xmlrpc.client\nV = [\n");
    for (_, py) in &cases {
        script.push_str(&format!("  {py},\n"));
    }
    script.push_str(
        "]\nfor v in V:\n    print(xmlrpc.client.dumps((v,), methodresponse=True, allow_none=True).encode().hex())\n\
         print(xmlrpc.client.dumps(xmlrpc.client.Fault(2, 'INCORRECT_PARAMETERS: <&>')).encode().hex())\n\
         print(xmlrpc.client.dumps((V[6], 1), 'a.b').encode().hex())\n\
         print(xmlrpc.client.dumps((float('nan'),), methodresponse=True).encode().hex())\n",
    );
    let out = Command::new(&python)
        .arg("-c")
        .arg(&script)
        .output()
        .expect("run reference python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("hex output");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), cases.len() + 3);
    for ((value, py), line) in cases.iter().zip(&lines) {
        let python_bytes = unhex(line);
        assert_eq!(
            text(encode_response(value)),
            text(python_bytes.clone()),
            "value {py}"
        );
        assert_eq!(
            decode_response(&python_bytes),
            Ok(Ok(value.clone())),
            "decoding python's {py}"
        );
    }
    let fault = Fault::new(FaultCode::IncorrectParameters, Some("<&>"));
    assert_eq!(encode_fault(&fault), unhex(lines[cases.len()]));
    let call = MethodCall::new("a.b", vec![cases[6].0.clone(), Value::Int(1)]);
    assert_eq!(encode_call(&call), unhex(lines[cases.len() + 1]));
    assert_eq!(
        encode_response(&Value::Double(f64::NAN)),
        unhex(lines[cases.len() + 2])
    );
}

// ---- decoder ----

fn call_with(params: &str) -> String {
    format!(
        "<?xml version='1.0'?><methodCall><methodName>m.x</methodName><params>{params}</params></methodCall>"
    )
}

fn one_param(value_xml: &str) -> Result<Value, DecodeError> {
    decode_call(call_with(&format!("<param>{value_xml}</param>")).as_bytes())
        .map(|mut c| c.params.remove(0))
}

#[test]
fn decodes_every_type() {
    let cases = [
        ("<value><int> 42 </int></value>", Value::Int(42)),
        ("<value><i4>-7</i4></value>", Value::Int(-7)),
        ("<value><i8>+2147483647</i8></value>", Value::Int(i32::MAX)),
        ("<value><boolean>1</boolean></value>", Value::Bool(true)),
        ("<value><boolean>0</boolean></value>", Value::Bool(false)),
        (
            "<value><string> a b </string></value>",
            Value::from(" a b "),
        ),
        ("<value><string/></value>", Value::from("")),
        ("<value> untyped </value>", Value::from(" untyped ")),
        ("<value></value>", Value::from("")),
        ("<value/>", Value::from("")),
        (
            "<value><double>-1.5e3</double></value>",
            Value::Double(-1500.0),
        ),
        (
            "<value><dateTime.iso8601>20240101T00:00:00</dateTime.iso8601></value>",
            Value::DateTime("20240101T00:00:00".into()),
        ),
        (
            "<value><base64>YW\nJj</base64></value>",
            Value::Base64(b"abc".to_vec()),
        ),
        ("<value><base64></base64></value>", Value::Base64(vec![])),
        ("<value><nil/></value>", Value::Nil),
        (
            "<value><ex:nil xmlns:ex='http://ws.apache.org/xmlrpc/namespaces/extensions'/></value>",
            Value::Nil,
        ),
        (
            "<value><array><data/></array></value>",
            Value::Array(vec![]),
        ),
        (
            "<value><array><data><value>a</value><value><int>1</int></value></data></array></value>",
            Value::array([Value::from("a"), Value::Int(1)]),
        ),
        (
            "<value><struct><member><name>k</name><value>v</value></member></struct></value>",
            Value::structure([("k", "v")]),
        ),
        (
            "<value><string>&lt;&amp;&gt;&quot;&apos;&#65;&#x42;</string></value>",
            Value::from("<&>\"'AB"),
        ),
        (
            "<value><string><![CDATA[<raw & text>]]></string></value>",
            Value::from("<raw & text>"),
        ),
        (
            "<value><string>a\r\nb\rc&#13;</string></value>",
            Value::from("a\nb\nc\r"),
        ),
        ("<value><!-- note --><int>3</int></value>", Value::Int(3)),
    ];
    for (xml, expected) in cases {
        assert_eq!(one_param(xml), Ok(expected), "{xml}");
    }
}

#[test]
fn call_shapes() {
    let no_params = b"<methodCall><methodName>system.listMethods</methodName></methodCall>";
    assert_eq!(
        decode_call(no_params),
        Ok(MethodCall::new("system.listMethods", vec![]))
    );
    let bom = "\u{FEFF}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodCall>\n  <methodName>a.b</methodName>\n  <params/>\n</methodCall>\n";
    assert_eq!(
        decode_call(bom.as_bytes()),
        Ok(MethodCall::new("a.b", vec![]))
    );
    for bad in [
        "<methodCall><params/></methodCall>",
        "<methodCall><methodName></methodName></methodCall>",
        "<methodCall><methodName/></methodCall>",
    ] {
        assert_eq!(
            decode_call(bad.as_bytes()),
            Err(DecodeError::NoMethodName),
            "{bad}"
        );
    }
}

#[test]
fn rejects_bad_documents() {
    let bad_params = [
        "<param><value><int>2147483648</int></value></param>",
        "<param><value><i8>-9223372036854775809</i8></value></param>",
        "<param><value><int>x</int></value></param>",
        "<param><value><boolean>2</boolean></value></param>",
        "<param><value><double>one</double></value></param>",
        "<param><value><base64>!!!</base64></value></param>",
        "<param><value><foo/></value></param>",
        "<param><value><int>1</int><int>2</int></value></param>",
        "<param><value><int><int>1</int></int></value></param>",
        "<param><value><array/></value></param>",
        "<param><value><array><data><int>1</int></data></array></value></param>",
        "<param><value><struct><member><value>v</value></member></struct></value></param>",
        "<param><value><struct><member><name>k</name></member></struct></value></param>",
        "<param><value><struct><x/></struct></value></param>",
        "<param/>",
        "<value>1</value>",
        "<param><value><string>&bogus;</string></value></param>",
        "<param><value><string>&#0;</string></value></param>",
        "<param><value><string>& </string></value></param>",
    ];
    for params in bad_params {
        let doc = call_with(params);
        assert!(decode_call(doc.as_bytes()).is_err(), "accepted {params}");
    }
    let out_of_range = call_with("<param><value><int>2147483648</int></value></param>");
    assert_eq!(
        decode_call(out_of_range.as_bytes()),
        Err(DecodeError::IntOutOfRange("2147483648".into()))
    );
    let bad_docs: [&[u8]; 9] = [
        b"",
        b"   ",
        b"<methodCall><methodName>a.b</methodName>",
        b"<methodCall><methodName>a.b</methodName></methodCall><x/>",
        b"<methodCall><methodName>a.b</methodName></methodCall>junk",
        b"<methodCall><methodName>a.b</wrong></methodCall>",
        b"<other/>",
        b"<methodCall><methodName>\xff</methodName></methodCall>",
        b"</methodCall>",
    ];
    for doc in bad_docs {
        assert!(
            decode_call(doc).is_err(),
            "accepted {:?}",
            String::from_utf8_lossy(doc)
        );
    }
}

#[test]
fn rejects_dtds_and_entity_definitions() {
    let billion_laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<methodCall><methodName>&lol2;</methodName></methodCall>"#;
    assert_eq!(
        decode_call(billion_laughs.as_bytes()),
        Err(DecodeError::Doctype)
    );
    let external = r#"<!DOCTYPE x SYSTEM "file:///etc/passwd"><methodCall><methodName>a.b</methodName></methodCall>"#;
    assert_eq!(decode_call(external.as_bytes()), Err(DecodeError::Doctype));
    let stray = "<methodCall><methodName>a.b</methodName><!ENTITY x \"y\"></methodCall>";
    assert!(decode_call(stray.as_bytes()).is_err());
}

#[test]
fn nesting_is_bounded() {
    let nest = |levels: usize| {
        let open = "<value><array><data>".repeat(levels);
        let close = "</data></array></value>".repeat(levels);
        call_with(&format!("<param>{open}<value>x</value>{close}</param>"))
    };
    // methodCall, params, param + 3 per level + the innermost value.
    let fits = (MAX_DEPTH - 4) / 3;
    assert!(decode_call(nest(fits).as_bytes()).is_ok());
    assert_eq!(
        decode_call(nest(fits + 1).as_bytes()),
        Err(DecodeError::TooDeep)
    );
    assert_eq!(
        decode_call(nest(100_000).as_bytes()),
        Err(DecodeError::TooDeep)
    );
    let empties = format!("{}<a/>", "<a>".repeat(MAX_DEPTH));
    assert_eq!(decode_call(empties.as_bytes()), Err(DecodeError::TooDeep));
}

#[test]
fn response_shapes() {
    let two = "<methodResponse><params><param><value>a</value></param><param><value>b</value></param></params></methodResponse>";
    assert_eq!(
        decode_response(two.as_bytes()),
        Err(DecodeError::ResponseArity(2))
    );
    let none = "<methodResponse><params/></methodResponse>";
    assert_eq!(
        decode_response(none.as_bytes()),
        Err(DecodeError::ResponseArity(0))
    );
    let bad_fault = "<methodResponse><fault><value><struct><member><name>faultCode</name><value>1</value></member></struct></value></fault></methodResponse>";
    assert_eq!(
        decode_response(bad_fault.as_bytes()),
        Err(DecodeError::BadFault)
    );
    let call = "<methodCall><methodName>a.b</methodName></methodCall>";
    assert!(decode_response(call.as_bytes()).is_err());
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn python_parses_what_we_encode() {
    let python = reference_python();
    let response = encode_response(&Value::array([
        Value::from("a\rb\u{1b}c<&>"),
        Value::Double(1e-7),
        Value::Base64(b"\x00\xffxyz".to_vec()),
    ]));
    let call = encode_call(&MethodCall::new(
        "supervisor.x",
        vec![
            Value::from("n&me"),
            Value::structure([("k", Value::array([Value::Int(1), Value::Bool(false)]))]),
        ],
    ));
    // The client side (xmlrpc.client.loads) and supervisord's own request parser.
    let script = format!(
        "import xmlrpc.client\n\
         from supervisor.xmlrpc import supervisor_xmlrpc_handler as H\n\
         r = xmlrpc.client.loads(bytes.fromhex('{}'), use_builtin_types=True)\n\
         print(ascii(r))\n\
         print(ascii(H.loads(object.__new__(H), bytes.fromhex('{}').decode())))\n",
        hex(&response),
        hex(&call)
    );
    let out = Command::new(&python)
        .arg("-c")
        .arg(&script)
        .output()
        .expect("run reference python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("ascii output");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            r"((['a\rb\ufffdc<&>', 1e-07, b'\x00\xffxyz'],), None)",
            r"(('n&me', {'k': [1, False]}), 'supervisor.x')",
        ]
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
