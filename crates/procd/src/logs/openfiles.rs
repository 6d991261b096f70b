//! A bounded set of open child log files, for a descriptor limit too low to keep every log open
//! (see `crate::fdbudget::Plan::open_logs`).
//!
//! Each log channel notes every use of its file here, under its own lock. While more files are open
//! than the budget allows, the least recently written ones are closed; each reopens its path in append
//! mode at its next write ([`super::RotatingFile`] does that by itself), so no byte is lost or
//! reordered: a channel writes only under its own lock, and a file is closed only by taking that lock
//! (with `try_lock`, so the set never waits for a busy channel and no two locks are ever waited for
//! in opposite order). Rotation by size stays exact: it is decided from the file's size right after a
//! write, which a reopened file in append mode reports as well as one kept open.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// A log file the set may close.
pub trait Closable: Send + Sync {
    /// Closes the file unless it is being used right now (never blocks). True when it is closed.
    fn try_close(&self) -> bool;
}

/// The open log files and their budget.
pub struct OpenFiles {
    budget: usize,
    next_key: AtomicU64,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    clock: u64,
    /// The open files by last use, oldest first.
    lru: BTreeMap<u64, (u64, Weak<dyn Closable>)>,
    /// Each open file's key in `lru`.
    stamps: HashMap<u64, u64>,
}

impl std::fmt::Debug for OpenFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenFiles")
            .field("budget", &self.budget)
            .field("open", &self.open())
            .finish()
    }
}

impl OpenFiles {
    /// At most `budget` files open at once (at least one).
    pub fn new(budget: usize) -> Self {
        OpenFiles {
            budget: budget.max(1),
            next_key: AtomicU64::new(0),
            inner: Mutex::new(Inner::default()),
        }
    }

    /// A key for a new file.
    pub fn key(&self) -> u64 {
        self.next_key.fetch_add(1, Ordering::Relaxed)
    }

    /// How many files are open.
    pub fn open(&self) -> usize {
        self.lock().lru.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The file `key` was just used and is now `open` (or closed): it becomes the most recently used,
    /// and the least recently used others are closed while more than the budget are open. The caller
    /// holds the file's own lock.
    pub fn note(&self, key: u64, file: &Weak<dyn Closable>, open: bool) {
        // Files whose last reference is released here are dropped after the set's lock (their `Drop`
        // calls `forget`).
        let mut release: Vec<Arc<dyn Closable>> = Vec::new();
        {
            let mut guard = self.lock();
            let inner = &mut *guard;
            if !open {
                if let Some(stamp) = inner.stamps.remove(&key) {
                    inner.lru.remove(&stamp);
                }
                return;
            }
            match inner.stamps.get(&key) {
                // Already the most recent: one writer at full speed costs one lock per chunk.
                Some(&stamp) if stamp == inner.clock => return,
                Some(&stamp) => {
                    inner.lru.remove(&stamp);
                }
                None => {}
            }
            inner.clock += 1;
            let stamp = inner.clock;
            inner.stamps.insert(key, stamp);
            inner.lru.insert(stamp, (key, file.clone()));
            let mut busy = Vec::new();
            while inner.lru.len() + busy.len() > self.budget {
                let Some((stamp, (k, weak))) = inner.lru.pop_first() else {
                    break;
                };
                if k == key {
                    busy.push((stamp, (k, weak)));
                    continue;
                }
                match weak.upgrade() {
                    None => {
                        inner.stamps.remove(&k);
                    }
                    Some(other) => {
                        if other.try_close() {
                            inner.stamps.remove(&k);
                        } else {
                            busy.push((stamp, (k, weak)));
                        }
                        release.push(other);
                    }
                }
            }
            // Files in use right now stay open (and oldest): at most one per writing thread.
            inner.lru.extend(busy);
        }
        drop(release);
    }

    /// The file `key` is gone (its channel was dropped).
    pub fn forget(&self, key: u64) {
        let mut inner = self.lock();
        if let Some(stamp) = inner.stamps.remove(&key) {
            inner.lru.remove(&stamp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    struct Fake {
        open: AtomicBool,
        busy: AtomicBool,
    }

    impl Closable for Fake {
        fn try_close(&self) -> bool {
            if self.busy.load(Ordering::Relaxed) {
                return false;
            }
            self.open.store(false, Ordering::Relaxed);
            true
        }
    }

    fn fake() -> Arc<Fake> {
        Arc::new(Fake {
            open: AtomicBool::new(false),
            busy: AtomicBool::new(false),
        })
    }

    fn use_file(set: &OpenFiles, key: u64, f: &Arc<Fake>) {
        f.open.store(true, Ordering::Relaxed);
        let weak: Weak<dyn Closable> = Arc::downgrade(&(Arc::clone(f) as Arc<dyn Closable>));
        set.note(key, &weak, true);
    }

    #[test]
    fn closes_the_least_recently_used_beyond_the_budget() {
        let set = OpenFiles::new(3);
        let files: Vec<_> = (0..5).map(|_| (set.key(), fake())).collect();
        for (k, f) in &files[..3] {
            use_file(&set, *k, f);
        }
        // Using the first again makes the second the oldest.
        use_file(&set, files[0].0, &files[0].1);
        use_file(&set, files[3].0, &files[3].1);
        let open: Vec<bool> = files
            .iter()
            .map(|(_, f)| f.open.load(Ordering::Relaxed))
            .collect();
        assert_eq!(open, [true, false, true, true, false]);
        assert_eq!(set.open(), 3);
        // A file being written is skipped; the next oldest goes instead.
        files[2].1.busy.store(true, Ordering::Relaxed);
        use_file(&set, files[4].0, &files[4].1);
        let open: Vec<bool> = files
            .iter()
            .map(|(_, f)| f.open.load(Ordering::Relaxed))
            .collect();
        assert_eq!(open, [false, false, true, true, true]);
        assert_eq!(set.open(), 3);
    }

    #[test]
    fn closed_and_dropped_files_leave_the_set() {
        let set = OpenFiles::new(2);
        let (a, b, c) = (fake(), fake(), fake());
        let (ka, kb, kc) = (set.key(), set.key(), set.key());
        use_file(&set, ka, &a);
        use_file(&set, kb, &b);
        let weak: Weak<dyn Closable> = Arc::downgrade(&(Arc::clone(&a) as Arc<dyn Closable>));
        set.note(ka, &weak, false);
        assert_eq!(set.open(), 1);
        set.forget(kb);
        assert_eq!(set.open(), 0);
        use_file(&set, kc, &c);
        use_file(&set, ka, &a);
        assert_eq!(set.open(), 2);
        assert!(
            b.open.load(Ordering::Relaxed),
            "b was forgotten, not closed"
        );
        // A file whose channel is gone is dropped from the set when it would be evicted.
        drop(c);
        let d = fake();
        use_file(&set, set.key(), &d);
        assert_eq!(set.open(), 2);
        assert!(a.open.load(Ordering::Relaxed));
    }
}
