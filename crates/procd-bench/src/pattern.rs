//! The deterministic byte stream the writer child emits and the output scenario checks.
//!
//! The stream is a sequence of 16-byte records; record `k` is `k` as 15 lowercase hex digits followed
//! by `\n`. Any byte's value depends only on its offset, so a log that dropped, duplicated or reordered
//! bytes is detected at the first offset where it differs.

/// Size of one record.
pub(crate) const RECORD: u64 = 16;

fn record(k: u64) -> [u8; 16] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b'\n'; 16];
    for (i, slot) in out[..15].iter_mut().enumerate() {
        let shift = 4 * (14 - i);
        // Record numbers above 16^15 wrap; streams that long are never written.
        *slot = HEX[((k >> shift.min(63)) & 0xf) as usize];
    }
    out
}

/// Fills `buf` with the stream's bytes starting at `offset`.
pub(crate) fn fill(offset: u64, buf: &mut [u8]) {
    let mut pos = offset;
    let mut i = 0;
    while i < buf.len() {
        let rec = record(pos / RECORD);
        let within = (pos % RECORD) as usize;
        let take = (16 - within).min(buf.len() - i);
        buf[i..i + take].copy_from_slice(&rec[within..within + take]);
        i += take;
        pos += take as u64;
    }
}

/// Checks a stream fed in pieces against the pattern.
#[derive(Debug, Default)]
pub(crate) struct Verifier {
    pos: u64,
    mismatch: Option<u64>,
    scratch: Vec<u8>,
}

impl Verifier {
    /// A verifier for a piece of the stream that begins at byte `pos` (a log whose oldest part was
    /// rotated away). `len` counts from the stream's start.
    pub(crate) fn starting_at(pos: u64) -> Self {
        Verifier {
            pos,
            ..Self::default()
        }
    }

    /// Feeds the next piece. After the first mismatch the rest is only counted.
    pub(crate) fn feed(&mut self, data: &[u8]) {
        if self.mismatch.is_none() {
            self.scratch.resize(data.len(), 0);
            fill(self.pos, &mut self.scratch);
            if let Some(i) = data.iter().zip(&self.scratch).position(|(a, b)| a != b) {
                self.mismatch = Some(self.pos + i as u64);
            }
        }
        self.pos += data.len() as u64;
    }

    /// Bytes fed so far.
    pub(crate) fn len(&self) -> u64 {
        self.pos
    }

    /// Offset of the first byte that differs from the pattern, if any.
    pub(crate) fn first_mismatch(&self) -> Option<u64> {
        self.mismatch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_hex_offsets() {
        let mut buf = vec![0u8; 48];
        fill(0, &mut buf);
        assert_eq!(&buf, b"000000000000000\n000000000000001\n000000000000002\n");
        let mut buf = vec![0u8; 16];
        fill(255 * 16, &mut buf);
        assert_eq!(&buf, b"0000000000000ff\n");
    }

    #[test]
    fn fill_from_any_offset_matches_whole_stream() {
        let mut whole = vec![0u8; 1000];
        fill(0, &mut whole);
        for (start, len) in [(0usize, 1usize), (7, 30), (15, 2), (16, 16), (333, 600)] {
            let mut part = vec![0u8; len];
            fill(start as u64, &mut part);
            assert_eq!(part, whole[start..start + len], "start {start} len {len}");
        }
    }

    #[test]
    fn verifier_accepts_pieces_and_spots_damage() {
        let mut whole = vec![0u8; 5000];
        fill(0, &mut whole);
        let mut v = Verifier::starting_at(0);
        for piece in whole.chunks(777) {
            v.feed(piece);
        }
        assert_eq!((v.len(), v.first_mismatch()), (5000, None));

        // A lost chunk shows up within the record where the gap starts (at the first digit that
        // differs between the record expected there and the one found).
        let mut v = Verifier::starting_at(0);
        v.feed(&whole[..100]);
        v.feed(&whole[116..]);
        assert_eq!(v.first_mismatch(), Some(110));
        assert_eq!(v.len(), 5000 - 16);

        let mut v = Verifier::starting_at(1000);
        v.feed(&whole[1000..2345]);
        assert_eq!((v.len(), v.first_mismatch()), (2345, None));
        let mut v = Verifier::starting_at(1001);
        v.feed(&whole[1000..2000]);
        assert!(
            v.first_mismatch().is_some(),
            "an offset piece is checked where it belongs"
        );

        let mut damaged = whole.clone();
        damaged[4321] = b'x';
        let mut v = Verifier::starting_at(0);
        v.feed(&damaged);
        assert_eq!(v.first_mismatch(), Some(4321));
    }
}
