//! Property tests of the XML-RPC codec: the decoder never panics on arbitrary or damaged input, and
//! encode -> decode returns the value (with strings sanitised as the codec documents).

use procd_protocol::{
    Fault, MethodCall, Value, decode_call, decode_response, encode_call, encode_fault,
    encode_response,
};
use proptest::prelude::*;

/// What the codec promises for text: XML-forbidden characters come back as U+FFFD, everything else as is.
fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t'
            | '\n'
            | '\r'
            | '\u{20}'..='\u{D7FF}'
            | '\u{E000}'..='\u{FFFD}'
            | '\u{10000}'.. => c,
            _ => char::REPLACEMENT_CHARACTER,
        })
        .collect()
}

fn sanitized(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(sanitize(s)),
        Value::DateTime(s) => Value::DateTime(sanitize(s)),
        Value::Struct(m) => Value::Struct(
            m.iter()
                .map(|(k, v)| (sanitize(k).into(), sanitized(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(sanitized).collect()),
        other => other.clone(),
    }
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~\t\r\n]{0,24}",
        "[&<>;#x0-9a-z\r\n]{0,16}",
        "\\PC{0,12}",
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    use proptest::num::f64 as f;
    prop_oneof![
        any::<i32>().prop_map(Value::Int),
        any::<bool>().prop_map(Value::Bool),
        text().prop_map(Value::String),
        (f::POSITIVE | f::NEGATIVE | f::NORMAL | f::SUBNORMAL | f::ZERO | f::INFINITE)
            .prop_map(Value::Double),
        "[0-9]{8}T[0-9]{2}:[0-9]{2}:[0-9]{2}".prop_map(Value::DateTime),
        proptest::collection::vec(any::<u8>(), 0..200).prop_map(Value::Base64),
        Just(Value::Nil),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::vec((text(), inner), 0..8).prop_map(Value::from),
        ]
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Delete(usize),
    Insert(usize, u8),
    Truncate(usize),
    Splice(usize, &'static str),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let tokens = prop_oneof![
        Just("<value>"),
        Just("</value>"),
        Just("<array><data>"),
        Just("</data></array>"),
        Just("<struct><member><name>"),
        Just("<!DOCTYPE x [<!ENTITY a \"b\">]>"),
        Just("&a;"),
        Just("&#0;"),
        Just("&#xD800;"),
        Just("<![CDATA["),
        Just("]]>"),
        Just("<int>99999999999</int>"),
        Just("\u{FEFF}"),
        Just("\u{0}"),
        Just("<?pi?>"),
        Just("<!--"),
    ];
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), tokens).prop_map(|(i, t)| Mutation::Splice(i, t)),
    ]
}

fn apply(doc: &mut Vec<u8>, m: &Mutation) {
    let at = |i: usize, len: usize| if len == 0 { 0 } else { i % len };
    match m {
        Mutation::Flip(i, b) if !doc.is_empty() => {
            let i = at(*i, doc.len());
            doc[i] ^= b | 1;
        }
        Mutation::Delete(i) if !doc.is_empty() => {
            doc.remove(at(*i, doc.len()));
        }
        Mutation::Insert(i, b) => doc.insert(at(*i, doc.len() + 1), *b),
        Mutation::Truncate(i) => doc.truncate(at(*i, doc.len() + 1)),
        Mutation::Splice(i, t) => {
            let i = at(*i, doc.len() + 1);
            doc.splice(i..i, t.bytes());
        }
        _ => {}
    }
}

/// Documents assembled from XML-RPC fragments, to reach deep into the decoder.
fn fragment_soup() -> impl Strategy<Value = Vec<u8>> {
    let fragment = prop_oneof![
        Just("<value>"),
        Just("</value>"),
        Just("<value/>"),
        Just("<array>"),
        Just("</array>"),
        Just("<data>"),
        Just("</data>"),
        Just("<struct>"),
        Just("</struct>"),
        Just("<member>"),
        Just("</member>"),
        Just("<name>"),
        Just("</name>"),
        Just("<int>"),
        Just("</int>"),
        Just("<boolean>"),
        Just("</boolean>"),
        Just("<base64>"),
        Just("</base64>"),
        Just("<double>"),
        Just("</double>"),
        Just("<nil/>"),
        Just("<param>"),
        Just("</param>"),
        Just("1"),
        Just("-2147483649"),
        Just("YWJj"),
        Just("1e400"),
        Just("&amp;"),
        Just("&#x1F600;"),
        Just(" "),
    ];
    proptest::collection::vec(fragment, 0..40).prop_map(|parts| {
        format!(
            "<methodCall><methodName>a.b</methodName><params>{}</params></methodCall>",
            parts.concat()
        )
        .into_bytes()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode_call(&bytes);
        let _ = decode_response(&bytes);
    }

    #[test]
    fn fragment_soup_never_panics(doc in fragment_soup()) {
        let _ = decode_call(&doc);
    }

    #[test]
    fn mutated_documents_never_panic(
        v in value(),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let mut response = encode_response(&v);
        let mut call = encode_call(&MethodCall::new("supervisor.x", vec![v]));
        for m in &mutations {
            apply(&mut response, m);
            apply(&mut call, m);
        }
        let _ = decode_response(&response);
        let _ = decode_call(&call);
        let _ = decode_response(&call);
        let _ = decode_call(&response);
    }

    #[test]
    fn responses_round_trip(v in value()) {
        let decoded = decode_response(&encode_response(&v));
        prop_assert_eq!(decoded, Ok(Ok(sanitized(&v))));
    }

    #[test]
    fn calls_round_trip(
        method in "[a-zA-Z_.]{1,30}",
        params in proptest::collection::vec(value(), 0..4),
    ) {
        let call = MethodCall::new(method, params);
        let expected = MethodCall::new(
            call.method.clone(),
            call.params.iter().map(sanitized).collect(),
        );
        prop_assert_eq!(decode_call(&encode_call(&call)), Ok(expected));
    }

    #[test]
    fn faults_round_trip(code in any::<i32>(), string in text()) {
        let fault = Fault { code, string };
        let expected = Fault { code, string: sanitize(&fault.string) };
        prop_assert_eq!(decode_response(&encode_fault(&fault)), Ok(Err(expected)));
    }
}

#[test]
fn nan_round_trips_as_nan() {
    let decoded = decode_response(&encode_response(&Value::Double(f64::NAN)));
    assert!(matches!(decoded, Ok(Ok(Value::Double(d))) if d.is_nan()));
}
