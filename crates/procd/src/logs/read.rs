//! Reading log files by offset, with supervisord's `readFile` / `tailFile` semantics (spec §2.5).
//!
//! The results are raw bytes; [`decode_lossy`] turns them into text for XML-RPC (supervisord decodes
//! strictly and fails with HTTP 500 when an offset splits a UTF-8 sequence; procd substitutes U+FFFD).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

/// Why `read_file` failed; each maps to the supervisord fault of the same name.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file does not exist (`NO_FILE`).
    #[error("no such file")]
    NoFile,
    /// Negative offset with a non-zero length, or a negative length (`BAD_ARGUMENTS`).
    #[error("bad arguments")]
    BadArguments,
    /// Any other I/O error (`FAILED`).
    #[error("{0}")]
    Failed(String),
}

/// Result of [`tail_file`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tail {
    pub data: Vec<u8>,
    /// The size of the file, i.e. where the next tail should start.
    pub offset: i64,
    /// The file had grown beyond `offset + length`; `data` holds only its last `length` bytes.
    pub overflow: bool,
}

fn read_at(file: &mut File, pos: u64, limit: Option<u64>) -> io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(pos))?;
    let mut data = Vec::new();
    match limit {
        Some(n) => file.take(n).read_to_end(&mut data)?,
        None => file.read_to_end(&mut data)?,
    };
    Ok(data)
}

/// `readFile`: `offset >= 0, length = 0` reads to EOF; `length > 0` reads up to `length` bytes;
/// `offset < 0, length = 0` reads the last `-offset` bytes (the whole file if shorter).
pub fn read_file(path: &Path, offset: i64, length: i64) -> Result<Vec<u8>, ReadError> {
    let failed = |e: io::Error| ReadError::Failed(e.to_string());
    let mut file = File::open(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => ReadError::NoFile,
        _ => failed(e),
    })?;
    if offset < 0 {
        if length != 0 {
            return Err(ReadError::BadArguments);
        }
        let back = offset.unsigned_abs();
        let size = file.seek(SeekFrom::End(0)).map_err(failed)?;
        read_at(&mut file, size.saturating_sub(back), Some(back)).map_err(failed)
    } else {
        if length < 0 {
            return Err(ReadError::BadArguments);
        }
        let limit = u64::try_from(length).ok().filter(|&n| n > 0);
        read_at(&mut file, offset.unsigned_abs(), limit).map_err(failed)
    }
}

/// `tailFile`: up to `length` bytes from `offset`; when the file is larger than `offset + length`, the last
/// `length` bytes and `overflow = true`. The returned offset is the file size. A missing file gives
/// `('', 0, false)`; another error gives `('', offset, false)`.
pub fn tail_file(path: &Path, offset: i64, length: i64) -> Tail {
    let nothing = |offset| Tail {
        data: Vec::new(),
        offset,
        overflow: false,
    };
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return nothing(0),
        Err(_) => return nothing(offset),
    };
    let size = match file.seek(SeekFrom::End(0)) {
        Ok(s) => i128::from(s),
        Err(_) => return nothing(offset),
    };
    let (mut off, mut len) = (i128::from(offset), i128::from(length));
    let mut overflow = false;
    if size > off + len {
        overflow = true;
        off = size - 1;
    }
    if off + len > size {
        if off > size - 1 {
            len = 0;
        }
        off = size - len;
    }
    off = off.max(0);
    len = len.max(0);
    let data = if len == 0 {
        Vec::new()
    } else {
        let pos = u64::try_from(off).unwrap_or(0);
        let limit = u64::try_from(len).unwrap_or(u64::MAX);
        match read_at(&mut file, pos, Some(limit)) {
            Ok(d) => d,
            Err(_) => return nothing(offset),
        }
    };
    Tail {
        data,
        offset: i64::try_from(size).unwrap_or(i64::MAX),
        overflow,
    }
}

/// Log bytes as text, replacing invalid UTF-8 (e.g. a multibyte character cut by an offset).
pub fn decode_lossy(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn file_with(content: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f.log");
        fs::write(&path, content).expect("write");
        (dir, path)
    }

    #[test]
    fn read_file_table() {
        let (_d, path) = file_with(b"0123456789");
        let table: [(i64, i64, &[u8]); 9] = [
            (0, 0, b"0123456789"),
            (3, 0, b"3456789"),
            (3, 4, b"3456"),
            (8, 100, b"89"),
            (10, 0, b""),
            (50, 5, b""),
            (-3, 0, b"789"),
            (-10, 0, b"0123456789"),
            (-1600, 0, b"0123456789"),
        ];
        for (offset, length, want) in table {
            let got = read_file(&path, offset, length).expect("read");
            assert_eq!(got, want, "read({offset}, {length})");
        }
        assert!(read_file(&path, i64::MIN, 0).is_ok());
    }

    #[test]
    fn read_file_errors() {
        let (dir, path) = file_with(b"abc");
        assert!(matches!(
            read_file(&path, -1, 1),
            Err(ReadError::BadArguments)
        ));
        assert!(matches!(
            read_file(&path, -1, -1),
            Err(ReadError::BadArguments)
        ));
        assert!(matches!(
            read_file(&path, 0, -1),
            Err(ReadError::BadArguments)
        ));
        assert!(matches!(
            read_file(&dir.path().join("nope"), 0, 0),
            Err(ReadError::NoFile)
        ));
        // The missing file is reported before the bad arguments.
        assert!(matches!(
            read_file(&dir.path().join("nope"), -1, 1),
            Err(ReadError::NoFile)
        ));
        assert!(matches!(
            read_file(dir.path(), 0, 0),
            Err(ReadError::Failed(_))
        ));
    }

    #[test]
    fn tail_file_table() {
        let (_d, path) = file_with(b"err\n");
        // Observed with supervisor 4.3.0's tailFile on the same content.
        let table: [(i64, i64, &[u8], bool); 11] = [
            (0, 3, b"rr\n", true),
            (0, 4, b"err\n", false),
            (0, 100, b"err\n", false),
            // Quirk: when fewer than `length` bytes follow `offset`, the window is moved back to
            // `size - length` (clamped at 0), so bytes before `offset` come back too.
            (2, 100, b"err\n", false),
            (2, 1, b"\n", true),
            (3, 1, b"\n", false),
            (4, 100, b"", false),
            (10, 100, b"", false),
            (0, 0, b"", true),
            (1, 1, b"\n", true),
            (0, -5, b"", true),
        ];
        for (offset, length, want, overflow) in table {
            let t = tail_file(&path, offset, length);
            assert_eq!(
                (t.data.as_slice(), t.offset, t.overflow),
                (want, 4, overflow),
                "tail({offset}, {length})"
            );
        }
    }

    #[test]
    fn tail_missing_and_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(
            tail_file(&dir.path().join("nope"), 7, 10),
            Tail {
                data: vec![],
                offset: 0,
                overflow: false
            }
        );
        let (_d, path) = file_with(b"");
        assert_eq!(
            tail_file(&path, 0, 1600),
            Tail {
                data: vec![],
                offset: 0,
                overflow: false
            }
        );
    }

    #[test]
    fn tail_after_growth_rereads_the_window() {
        let (_d, path) = file_with(b"one\n");
        let t = tail_file(&path, 0, 1600);
        assert_eq!((t.data.as_slice(), t.offset), (&b"one\n"[..], 4));
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        std::io::Write::write_all(&mut f, b"two\n").expect("append");
        // As in supervisord: the window ends at EOF and starts at max(0, size - length).
        let t = tail_file(&path, t.offset, 1600);
        assert_eq!(
            (t.data.as_slice(), t.offset, t.overflow),
            (&b"one\ntwo\n"[..], 8, false)
        );
        let t = tail_file(&path, 8, 3);
        assert_eq!(
            (t.data.as_slice(), t.offset, t.overflow),
            (&b""[..], 8, false)
        );
        let t = tail_file(&path, 4, 3);
        assert_eq!(
            (t.data.as_slice(), t.offset, t.overflow),
            (&b"wo\n"[..], 8, true)
        );
    }

    #[test]
    fn lossy_decoding() {
        let snowman = "☃".as_bytes();
        assert_eq!(decode_lossy(b"plain"), "plain");
        assert_eq!(decode_lossy(&snowman[1..]), "\u{fffd}\u{fffd}");
    }
}
