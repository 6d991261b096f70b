//! Parameter checking in one place: arity and types against the method table, with supervisord's
//! leniency where its clients rely on it. Every mismatch is `INCORRECT_PARAMETERS`, never an HTTP error.

use super::methods::{MethodSpec, ParamType, find_method};
use crate::codec::MethodCall;
use crate::fault::{Fault, FaultCode};
use crate::value::Value;

/// Checked parameters: one value per declared parameter, defaults filled in, each of its declared type
/// (`Signal` parameters hold a string). The getters therefore never see a wrong type; they fall back to an
/// empty/zero value only if asked for an index the method does not declare.
#[derive(Debug, Clone, PartialEq)]
pub struct Params(Vec<Value>);

impl Params {
    /// The values, one per declared parameter, in order.
    pub fn values(&self) -> &[Value] {
        &self.0
    }

    /// The values, owned.
    pub fn into_values(self) -> Vec<Value> {
        self.0
    }

    /// Parameter `i` as text (`String` and `Signal` parameters).
    pub fn string(&self, i: usize) -> &str {
        self.0.get(i).and_then(Value::as_str).unwrap_or_default()
    }

    /// Parameter `i` as an integer.
    pub fn int(&self, i: usize) -> i32 {
        self.0.get(i).and_then(Value::as_int).unwrap_or_default()
    }

    /// Parameter `i` as a boolean (after its default was filled in).
    pub fn boolean(&self, i: usize) -> bool {
        self.0.get(i).and_then(Value::as_bool).unwrap_or_default()
    }

    /// Parameter `i` as an array's items.
    pub fn array(&self, i: usize) -> &[Value] {
        self.0.get(i).and_then(Value::as_array).unwrap_or_default()
    }
}

/// Looks the method up (`UNKNOWN_METHOD` if it is not published) and checks its parameters.
pub fn check_call(call: &MethodCall) -> Result<(&'static MethodSpec, Params), Fault> {
    let spec = find_method(&call.method).ok_or(Fault::from(FaultCode::UnknownMethod))?;
    Ok((spec, parse_params(spec, &call.params)?))
}

/// Checks the count and types of `params` for `spec`.
///
/// Coercions (what Python's duck typing lets through in supervisord and clients depend on):
/// * boolean: any value, by Python truthiness (`startProcess(name, 0)`, `stopProcess(name, 1)`);
/// * int: also a boolean, an integral double, or a string holding an integer (`readLog("0", 10)`);
/// * signal: a string, or an int (turned into its decimal text);
/// * string, array, struct: only that type.
pub fn parse_params(spec: &MethodSpec, params: &[Value]) -> Result<Params, Fault> {
    if params.len() < spec.required_params() || params.len() > spec.params.len() {
        return Err(FaultCode::IncorrectParameters.into());
    }
    spec.params
        .iter()
        .enumerate()
        .map(|(i, decl)| match params.get(i) {
            Some(given) => coerce(decl.ty, given),
            None => decl
                .default
                .map(Value::Bool)
                .ok_or_else(|| FaultCode::IncorrectParameters.into()),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Params)
}

fn coerce(ty: ParamType, given: &Value) -> Result<Value, Fault> {
    let coerced = match (ty, given) {
        (ParamType::String | ParamType::Signal, Value::String(_))
        | (ParamType::Int, Value::Int(_))
        | (ParamType::Boolean, Value::Bool(_))
        | (ParamType::Array, Value::Array(_))
        | (ParamType::Struct, Value::Struct(_)) => Some(given.clone()),
        (ParamType::Signal, Value::Int(n)) => Some(Value::String(n.to_string())),
        (ParamType::Boolean, other) => Some(Value::Bool(truthy(other))),
        (ParamType::Int, Value::Bool(b)) => Some(Value::Int(i32::from(*b))),
        (ParamType::Int, Value::Double(d)) => integral(*d).map(Value::Int),
        (ParamType::Int, Value::String(s)) => s.trim().parse::<i32>().ok().map(Value::Int),
        _ => None,
    };
    coerced.ok_or_else(|| FaultCode::IncorrectParameters.into())
}

fn integral(d: f64) -> Option<i32> {
    let in_range = d.fract() == 0.0 && d >= f64::from(i32::MIN) && d <= f64::from(i32::MAX);
    #[allow(clippy::cast_possible_truncation)] // checked just above
    in_range.then_some(d as i32)
}

/// Python's `bool(x)` for the values XML-RPC can carry.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Int(i) => *i != 0,
        Value::Bool(b) => *b,
        Value::String(s) | Value::DateTime(s) => !s.is_empty(),
        Value::Double(d) => *d != 0.0,
        Value::Base64(b) => !b.is_empty(),
        Value::Struct(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Nil => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str) -> &'static MethodSpec {
        find_method(name).expect("method exists")
    }

    fn incorrect() -> Fault {
        FaultCode::IncorrectParameters.into()
    }

    #[test]
    fn arity_and_defaults() {
        let start = spec("supervisor.startProcess");
        let p = parse_params(start, &["cat".into()]).unwrap();
        assert_eq!(p.values(), [Value::from("cat"), Value::Bool(true)]);
        assert_eq!((p.string(0), p.boolean(1)), ("cat", true));
        let p = parse_params(start, &["cat".into(), false.into()]).unwrap();
        assert!(!p.boolean(1));
        assert_eq!(parse_params(start, &[]), Err(incorrect()));
        assert_eq!(
            parse_params(start, &["a".into(), true.into(), true.into()]),
            Err(incorrect())
        );
        let all = spec("supervisor.startAllProcesses");
        assert_eq!(
            parse_params(all, &[]).unwrap().values(),
            [Value::Bool(true)]
        );
        let pid = spec("supervisor.getPID");
        assert_eq!(parse_params(pid, &[Value::Int(1)]), Err(incorrect()));
        assert_eq!(parse_params(pid, &[]).unwrap().values(), []);
    }

    #[test]
    fn python_leniency() {
        let stop = spec("supervisor.stopProcess");
        let cases = [
            (Value::Int(0), false),
            (Value::Int(1), true),
            (Value::from("yes"), true),
            (Value::from(""), false),
            (Value::Double(0.0), false),
            (Value::Array(vec![]), false),
            (Value::Nil, false),
        ];
        for (given, expected) in cases {
            let p = parse_params(stop, &["cat".into(), given.clone()]).unwrap();
            assert_eq!(p.boolean(1), expected, "{given:?}");
        }

        let read = spec("supervisor.readLog");
        let p = parse_params(read, &[" -1600 ".into(), Value::Bool(false)]).unwrap();
        assert_eq!((p.int(0), p.int(1)), (-1600, 0));
        let p = parse_params(read, &[Value::Double(5.0), Value::Int(1)]).unwrap();
        assert_eq!(p.int(0), 5);
        for bad in [
            Value::from("x"),
            Value::Double(0.5),
            Value::Double(1e12),
            Value::Nil,
            Value::Array(vec![]),
        ] {
            assert_eq!(parse_params(read, &[bad, 0.into()]), Err(incorrect()));
        }

        let signal = spec("supervisor.signalProcess");
        let p = parse_params(signal, &["cat".into(), Value::Int(1)]).unwrap();
        assert_eq!(p.string(1), "1");
        assert_eq!(
            parse_params(signal, &["cat".into(), Value::Bool(true)]),
            Err(incorrect())
        );
    }

    #[test]
    fn strict_types() {
        let stdin = spec("supervisor.sendProcessStdin");
        assert_eq!(
            parse_params(stdin, &["cat".into(), Value::Int(5)]),
            Err(incorrect())
        );
        let info = spec("supervisor.getProcessInfo");
        assert_eq!(parse_params(info, &[Value::Int(5)]), Err(incorrect()));
        let multi = spec("system.multicall");
        assert_eq!(parse_params(multi, &["x".into()]), Err(incorrect()));
        let p = parse_params(multi, &[Value::array([Value::Struct(vec![])])]).unwrap();
        assert_eq!(p.array(0).len(), 1);
    }

    #[test]
    fn check_call_resolves_methods() {
        let call = MethodCall::new("supervisor.getVersion", vec![]);
        let (spec, params) = check_call(&call).unwrap();
        assert_eq!(spec.canonical(), "supervisor.getAPIVersion");
        assert!(params.values().is_empty());
        for bad in [
            "getVersion",
            "supervisor.getVersion.x",
            "supervisor._update",
            "",
        ] {
            let call = MethodCall::new(bad, vec![]);
            assert_eq!(
                check_call(&call),
                Err(Fault::from(FaultCode::UnknownMethod))
            );
        }
        let call = MethodCall::new("system.methodHelp", vec![]);
        assert_eq!(check_call(&call), Err(incorrect()));
    }
}
