//! Namespecs: how clients name a process (`name`, `group:name`) or a whole group (`group:*`, `group:`).

/// Splits a namespec into `(group, process)`; `process` is `None` when the whole group is meant.
///
/// `name` alone means the process `name` in the group `name`; only the first `:` separates.
pub fn split_namespec(namespec: &str) -> (String, Option<String>) {
    match namespec.split_once(':') {
        Some((group, process)) => {
            let process = (!process.is_empty() && process != "*").then(|| process.to_owned());
            (group.to_owned(), process)
        }
        None => (namespec.to_owned(), Some(namespec.to_owned())),
    }
}

/// The short name clients see: `name` when the process is alone in a same-named group, else `group:name`.
pub fn make_namespec(group: &str, process: &str) -> String {
    if group == process {
        process.to_owned()
    } else {
        format!("{group}:{process}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_supervisord() {
        let cases = [
            ("cat", ("cat", Some("cat"))),
            ("g:p", ("g", Some("p"))),
            ("g:*", ("g", None)),
            ("g:", ("g", None)),
            ("g:p:q", ("g", Some("p:q"))),
            (":p", ("", Some("p"))),
            ("", ("", Some(""))),
        ];
        for (input, (group, process)) in cases {
            assert_eq!(
                split_namespec(input),
                (group.to_owned(), process.map(str::to_owned)),
                "{input}"
            );
        }
    }

    #[test]
    fn makes_short_names() {
        assert_eq!(make_namespec("cat", "cat"), "cat");
        assert_eq!(make_namespec("web", "web_01"), "web:web_01");
    }
}
