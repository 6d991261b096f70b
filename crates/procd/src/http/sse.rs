//! Server-sent events for the web UI's live table: one `data: <n>` event when the stream opens and
//! one each time a counter changes. A task per open stream waits on the counter (no timer); it ends
//! when the client goes away, the counter's sender is dropped, or the server stops.

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::Response;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderName, HeaderValue};
use tokio::sync::{mpsc, watch};

use super::response::{ChannelBody, RespBody};

/// How long a browser waits before reconnecting a dropped stream (the `retry:` field, in ms).
const RETRY_MS: u32 = 3000;

/// One event carrying the counter's value (the first also sets the reconnection delay).
pub(crate) fn event(value: u64, first: bool) -> Bytes {
    let retry = if first {
        format!("retry: {RETRY_MS}\n")
    } else {
        String::new()
    };
    Bytes::from(format!("{retry}data: {value}\n\n"))
}

/// The `text/event-stream` response following `counter`.
pub(crate) fn changes(
    mut counter: watch::Receiver<u64>,
    mut stop: watch::Receiver<bool>,
) -> Response<RespBody> {
    // One slot: while the client has not taken an event, further changes fold into the next one.
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        let mut first = true;
        loop {
            let value = *counter.borrow_and_update();
            if *stop.borrow() || tx.send(event(value, first)).await.is_err() {
                return;
            }
            first = false;
            tokio::select! {
                r = counter.changed() => if r.is_err() { return },
                _ = stop.changed() => return,
                () = tx.closed() => return,
            }
        }
    });
    let mut resp = Response::new(ChannelBody { rx }.boxed());
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_format() {
        assert_eq!(&event(7, true)[..], b"retry: 3000\ndata: 7\n\n");
        assert_eq!(&event(8, false)[..], b"data: 8\n\n");
    }

    #[tokio::test]
    async fn stream_follows_the_counter_and_ends_with_the_server() {
        let (counter, rx) = watch::channel(5u64);
        let (stop_tx, stop) = watch::channel(false);
        let mut body = changes(rx, stop).into_body();
        let mut next = async || {
            body.frame()
                .await
                .map(|f| f.expect("infallible").into_data().expect("data"))
        };
        assert_eq!(
            next().await.as_deref(),
            Some(&b"retry: 3000\ndata: 5\n\n"[..])
        );
        counter.send_modify(|n| *n += 1);
        assert_eq!(next().await.as_deref(), Some(&b"data: 6\n\n"[..]));
        // Changes made while the stream task does not run fold into one event with the latest value.
        counter.send_modify(|n| *n += 1);
        counter.send_modify(|n| *n += 1);
        assert_eq!(next().await.as_deref(), Some(&b"data: 8\n\n"[..]));
        let _ = stop_tx.send(true);
        loop {
            match next().await {
                None => break,
                Some(b) => assert!(b.starts_with(b"data: "), "{b:?}"),
            }
        }
    }
}
