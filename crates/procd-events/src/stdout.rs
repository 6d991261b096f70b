//! What `supervisor_stdout:event_handler` writes on the daemon's stdout, and how.
//!
//! The handler (supervisor-stdout 0.1.1, Python 2) runs `print '%s %s | %s' % (name, channel, data),`.
//! The trailing comma means no newline is added, and Python 2's "soft space" rule applies: after a
//! printed text that does not end in a whitespace character other than a space, the next `print`
//! first writes one space. Output chunks normally end in `\n`, so the space only appears after a
//! chunk that stopped mid-line.

/// Python 2's soft-space state of `sys.stdout` for successive `print text,` statements.
#[derive(Debug, Default)]
pub struct SoftSpace {
    pending: bool,
}

impl SoftSpace {
    /// The bytes `print text,` writes: a space first if the previous text asked for one.
    pub fn print(&mut self, text: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() + 1);
        if self.pending {
            out.push(b' ');
        }
        out.extend_from_slice(text);
        // C's isspace(): space, \t, \n, \v, \f, \r.
        self.pending = match text.last() {
            None | Some(b' ') => true,
            Some(b) => !matches!(b, b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'),
        };
        out
    }
}

#[cfg(test)]
mod tests {
    use super::SoftSpace;
    use crate::listener::supervisor_stdout_line;

    #[test]
    fn lines_as_the_handler_prints_them() {
        let line = |b: &[u8]| supervisor_stdout_line(b);
        assert_eq!(
            line(b"processname:web groupname:web pid:42 channel:stdout\nhello\n").as_deref(),
            Some(&b"web stdout | hello\n"[..])
        );
        assert_eq!(
            line(b"processname:w_1 groupname:w pid:7 channel:stderr\n\xff\x00raw\n").as_deref(),
            Some(&b"w_1 stderr | \xff\x00raw\n"[..])
        );
        // Where the Python handler raises: no newline, a token without `:` or with two, no channel.
        assert_eq!(line(b"processname:web channel:stdout"), None);
        assert_eq!(line(b"processname:web odd channel:stdout\nx"), None);
        assert_eq!(line(b"processname:web a:b:c channel:stdout\nx"), None);
        assert_eq!(line(b"processname:web pid:1\nx"), None);
        // `when:1` of a TICK event, echoed back.
        assert_eq!(line(b"when:1"), None);
    }

    #[test]
    fn soft_space_after_text_without_a_final_newline() {
        let mut s = SoftSpace::default();
        assert_eq!(s.print(b"a stdout | one\n"), b"a stdout | one\n");
        assert_eq!(s.print(b"a stdout | par"), b"a stdout | par");
        assert_eq!(s.print(b"a stdout | tial\n"), b" a stdout | tial\n");
        assert_eq!(s.print(b"a stdout | x "), b"a stdout | x ");
        assert_eq!(s.print(b"a stdout | y\t"), b" a stdout | y\t");
        assert_eq!(s.print(b"a stdout | z"), b"a stdout | z");
    }
}
