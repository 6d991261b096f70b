//! Reading typed members out of struct values, with errors that name the offending key.

use crate::value::Value;

/// Why a value does not have the shape of an API structure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FromValueError {
    #[error("expected {expected}, got {found}")]
    WrongType {
        expected: &'static str,
        found: &'static str,
    },
    #[error("missing member {0:?}")]
    MissingKey(&'static str),
    #[error("member {key:?} should be {expected}, got {found}")]
    WrongMemberType {
        key: &'static str,
        expected: &'static str,
        found: &'static str,
    },
    #[error("unknown state code {0}")]
    UnknownState(i32),
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
