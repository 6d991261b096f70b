//! Reading typed members out of struct values, with errors that name the offending key.

use crate::value::Value;

/// Why a value does not have the shape of an API structure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FromValueError {
    /// The value itself has the wrong XML-RPC type (e.g. an array where a struct was expected).
    #[error("expected {expected}, got {found}")]
    WrongType {
        /// The XML-RPC type name expected (`struct`, `array`, ...).
        expected: &'static str,
        /// The type name of the value received.
        found: &'static str,
    },
    /// A struct lacks a member the structure requires (the member's name).
    #[error("missing member {0:?}")]
    MissingKey(&'static str),
    /// A struct member has the wrong XML-RPC type.
    #[error("member {key:?} should be {expected}, got {found}")]
    WrongMemberType {
        /// The member's name, e.g. `statecode`.
        key: &'static str,
        /// The XML-RPC type name expected.
        expected: &'static str,
        /// The type name of the value received.
        found: &'static str,
    },
    /// A `state`/`statecode` number that is not one of supervisord's process or supervisor states.
    #[error("unknown state code {0}")]
    UnknownState(i32),
    /// A `stopsignal` number that names no signal.
    #[error("invalid signal number {0}")]
    BadSignal(i32),
}

/// A struct value being read member by member.
pub(crate) struct Fields<'a>(&'a Value);

impl<'a> Fields<'a> {
    pub(crate) fn new(value: &'a Value) -> Result<Self, FromValueError> {
        match value {
            Value::Struct(_) => Ok(Fields(value)),
            other => Err(FromValueError::WrongType {
                expected: "struct",
                found: other.type_name(),
            }),
        }
    }

    pub(crate) fn get(&self, key: &'static str) -> Result<&'a Value, FromValueError> {
        self.0.get(key).ok_or(FromValueError::MissingKey(key))
    }

    fn typed<T>(
        &self,
        key: &'static str,
        expected: &'static str,
        read: impl FnOnce(&'a Value) -> Option<T>,
    ) -> Result<T, FromValueError> {
        let value = self.get(key)?;
        read(value).ok_or(FromValueError::WrongMemberType {
            key,
            expected,
            found: value.type_name(),
        })
    }

    pub(crate) fn string(&self, key: &'static str) -> Result<String, FromValueError> {
        self.typed(key, "string", |v| v.as_str().map(str::to_owned))
    }

    pub(crate) fn int(&self, key: &'static str) -> Result<i32, FromValueError> {
        self.typed(key, "int", Value::as_int)
    }

    pub(crate) fn boolean(&self, key: &'static str) -> Result<bool, FromValueError> {
        self.typed(key, "boolean", Value::as_bool)
    }

    pub(crate) fn array(&self, key: &'static str) -> Result<&'a [Value], FromValueError> {
        self.typed(key, "array", Value::as_array)
    }

    /// A string where supervisord writes `'none'` for Python's `None`.
    pub(crate) fn string_or_none(
        &self,
        key: &'static str,
    ) -> Result<Option<String>, FromValueError> {
        let s = self.string(key)?;
        Ok((s != "none").then_some(s))
    }
}

/// Encodes an optional string the way supervisord does (`None` as `'none'`).
pub(crate) fn none_string(v: Option<&str>) -> Value {
    Value::from(v.unwrap_or("none"))
}
