//! The XML-RPC value model: one enum covering every type supervisord and its clients exchange.
//!
//! Structs keep their members in insertion order, because supervisord's responses list keys in a fixed
//! order and we reproduce its bytes exactly.

/// One XML-RPC value.
///
/// `Int` is the 32-bit `<int>`/`<i4>` of the XML-RPC spec (Python refuses to marshal anything wider).
/// `DateTime` carries the raw `dateTime.iso8601` text (e.g. `20240101T12:00:00`), unparsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `<int>` / `<i4>`: a signed 32-bit integer (pids, offsets, state codes, fault codes).
    Int(i32),
    /// `<boolean>`: `0` or `1` on the wire.
    Bool(bool),
    /// `<string>` (or a `<value>` with bare text): Unicode text; supervisord sends log bytes as text.
    String(String),
    /// `<double>`: a 64-bit float.
    Double(f64),
    /// `<dateTime.iso8601>`, kept as its raw text.
    DateTime(String),
    /// `<base64>`: bytes.
    Base64(Vec<u8>),
    /// Members in order; duplicate names are kept (lookups see the last one, like a Python dict).
    /// Names are usually literals (`"statename"`), borrowed without allocating; decoded ones are owned.
    Struct(Vec<(Name, Value)>),
    /// `<array>`: items in order.
    Array(Vec<Value>),
    /// `<nil/>`: the common extension for Python's `None` (`xmlrpc.client` with `allow_none=True`).
    Nil,
}

/// A struct member's name.
pub type Name = std::borrow::Cow<'static, str>;

impl Value {
    /// Builds a struct from `(name, value)` pairs, keeping their order.
    pub fn structure<K, V, I>(members: I) -> Value
    where
        K: Into<Name>,
        V: Into<Value>,
        I: IntoIterator<Item = (K, V)>,
    {
        Value::Struct(
            members
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// Builds an array from anything convertible into values.
    pub fn array<V, I>(items: I) -> Value
    where
        V: Into<Value>,
        I: IntoIterator<Item = V>,
    {
        Value::Array(items.into_iter().map(Into::into).collect())
    }

    /// The XML-RPC type name, as used in `system.methodSignature` and in error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Bool(_) => "boolean",
            Value::String(_) => "string",
            Value::Double(_) => "double",
            Value::DateTime(_) => "dateTime.iso8601",
            Value::Base64(_) => "base64",
            Value::Struct(_) => "struct",
            Value::Array(_) => "array",
            Value::Nil => "nil",
        }
    }

    /// The text of a `String`; `None` for any other type.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number of an `Int`; `None` for any other type.
    pub fn as_int(&self) -> Option<i32> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The value of a `Bool`; `None` for any other type.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The value of a `Double`; `None` for any other type.
    pub fn as_double(&self) -> Option<f64> {
        match self {
            Value::Double(d) => Some(*d),
            _ => None,
        }
    }

    /// The bytes of a `Base64`; `None` for any other type.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Base64(b) => Some(b),
            _ => None,
        }
    }

    /// The items of an `Array`; `None` for any other type.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The members of a `Struct`, in order; `None` for any other type.
    pub fn as_struct(&self) -> Option<&[(Name, Value)]> {
        match self {
            Value::Struct(members) => Some(members),
            _ => None,
        }
    }

    /// Whether this is `Nil`.
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// Looks up a struct member by name (the last one if the name repeats); `None` for non-structs.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_struct()?
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Takes the string out of a `String` value.
    pub fn into_string(self) -> Result<String, Value> {
        match self {
            Value::String(s) => Ok(s),
            other => Err(other),
        }
    }

    /// Takes the items out of an `Array` value.
    pub fn into_array(self) -> Result<Vec<Value>, Value> {
        match self {
            Value::Array(items) => Ok(items),
            other => Err(other),
        }
    }
}

impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Double(v)
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_owned())
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::String(v.clone())
    }
}

impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::Array(v)
    }
}

impl From<Vec<(String, Value)>> for Value {
    fn from(v: Vec<(String, Value)>) -> Self {
        Value::Struct(v.into_iter().map(|(k, v)| (Name::Owned(k), v)).collect())
    }
}

/// `None` becomes `Nil` (which supervisord itself never sends; prefer explicit values on the wire).
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Nil, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_keep_order_and_convert() {
        let v = Value::structure([("b", Value::from(1)), ("a", Value::from("x"))]);
        let members = v.as_struct().unwrap();
        assert_eq!(members[0].0, "b");
        assert_eq!(members[1].0, "a");
        assert_eq!(v.get("a").and_then(Value::as_str), Some("x"));
        assert_eq!(v.get("b").and_then(Value::as_int), Some(1));
        assert_eq!(v.get("c"), None);
        assert_eq!(Value::array([1, 2]).as_array().map(<[Value]>::len), Some(2));
    }

    #[test]
    fn get_sees_last_duplicate_like_a_python_dict() {
        let v = Value::structure([("k", 1), ("k", 2)]);
        assert_eq!(v.get("k"), Some(&Value::Int(2)));
        assert_eq!(Value::Int(3).get("k"), None);
    }

    #[test]
    fn accessors_reject_other_types() {
        assert_eq!(Value::Int(1).as_str(), None);
        assert_eq!(Value::from("1").as_int(), None);
        assert_eq!(Value::Int(1).as_bool(), None);
        assert_eq!(Value::Bool(true).as_bool(), Some(true));
        assert_eq!(Value::Double(1.5).as_double(), Some(1.5));
        assert_eq!(Value::Base64(vec![1]).as_bytes(), Some(&[1u8][..]));
        assert!(Value::from(None::<i32>).is_nil());
        assert_eq!(Value::from(Some(4)), Value::Int(4));
        assert_eq!(Value::from("s").into_string(), Ok("s".to_owned()));
        assert_eq!(Value::Int(1).into_array(), Err(Value::Int(1)));
    }

    #[test]
    fn type_names_match_xmlrpc() {
        let names: Vec<_> = [
            Value::Int(0),
            Value::Bool(false),
            Value::from(""),
            Value::Double(0.0),
            Value::DateTime(String::new()),
            Value::Base64(vec![]),
            Value::Struct(vec![]),
            Value::Array(vec![]),
            Value::Nil,
        ]
        .iter()
        .map(Value::type_name)
        .collect();
        assert_eq!(
            names,
            [
                "int",
                "boolean",
                "string",
                "double",
                "dateTime.iso8601",
                "base64",
                "struct",
                "array",
                "nil"
            ]
        );
    }
}
