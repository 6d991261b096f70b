//! Actions that read logs: `tail`, `maintail` (by XML-RPC or followed over HTTP) and `fg`, which follows a
//! process' output while forwarding typed lines to its stdin.

use crate::cli::controller::{CmdResult, Controller, exit};
use crate::cli::help::show_help;
use crate::cli::input::LineFeed;
use crate::cli::output::eprint_line;
use crate::client::{Channel, Client};
use crate::error::ClientError;
use crate::transport::ByteStream;
use procd_protocol::FaultCode;

const BANNER: &str = "==> Press Ctrl-C to exit <==";
const DEFAULT_BYTES: i32 = 1600;

/// How the HTTP log client reports a failed GET on stderr.
fn stream_error(url: &str, e: &ClientError) -> String {
    match e {
        ClientError::Status { status, .. } => format!("{url} Cannot read, status code {status}"),
        ClientError::ConnectionRefused { .. } => {
            format!(
                "{url} Cannot connect, error: <class 'ConnectionRefusedError'> ([Errno 111] Connection refused)"
            )
        }
        ClientError::NoSuchFile { .. } => {
            format!(
                "{url} Cannot connect, error: <class 'FileNotFoundError'> ([Errno 2] No such file or directory)"
            )
        }
        other => format!("{url} Cannot connect, error: <class 'OSError'> ({other})"),
    }
}

/// Follows one HTTP log stream to stdout until it ends or Ctrl-C.
fn follow(ctl: &mut Controller, path: &str) -> CmdResult {
    ctl.output(BANNER);
    ctl.out.flush();
    let client = ctl.client()?;
    let url = format!("{}{path}", ctl.settings.serverurl);
    let rt = ctl.runtime();
    let out = &mut ctl.out;
    let interrupted = rt.block_on(async {
        let stream = tokio::select! {
            s = client.get_stream(path) => s,
            _ = tokio::signal::ctrl_c() => return true,
        };
        let mut stream = match stream {
            Ok(s) => s,
            Err(e) => {
                eprint_line(&stream_error(&url, &e));
                return false;
            }
        };
        loop {
            tokio::select! {
                chunk = stream.next_chunk() => match chunk {
                    Some(Ok(bytes)) => out.raw(&bytes),
                    _ => return false,
                },
                _ = tokio::signal::ctrl_c() => return true,
            }
        }
    });
    if interrupted {
        ctl.output("");
    }
    Ok(())
}

/// `tail [-f | -BYTES] NAME [stdout|stderr]`: the last 1600 bytes (or BYTES) of a process's log via
/// `readProcessStdoutLog`/`readProcessStderrLog`; `-f` follows the `/logtail/NAME/CHANNEL` HTTP stream
/// until Ctrl-C.
pub fn do_tail(ctl: &mut Controller, arg: &str) -> CmdResult {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let mut args: Vec<&str> = arg.split_whitespace().collect();
    if args.is_empty() || args.len() > 3 {
        ctl.output(if args.is_empty() {
            "Error: too few arguments"
        } else {
            "Error: too many arguments"
        });
        ctl.exitstatus = exit::GENERIC;
        show_help(ctl, "tail");
        return Ok(());
    }
    let modifier = if args[0].starts_with('-') {
        Some(args.remove(0))
    } else {
        None
    };
    let (name, channel) = match args.as_slice() {
        [name] => (*name, "stdout".to_string()),
        [name, .., last] => {
            let channel = last.to_lowercase();
            if channel != "stdout" && channel != "stderr" {
                ctl.output(&format!("Error: bad channel '{channel}'"));
                ctl.exitstatus = exit::GENERIC;
                return Ok(());
            }
            (*name, channel)
        }
        [] => {
            ctl.output("Error: tail requires process name");
            ctl.exitstatus = exit::GENERIC;
            return Ok(());
        }
    };
    let mut bytes = Some(DEFAULT_BYTES);
    if let Some(m) = modifier {
        let what = &m[1..];
        if what == "f" {
            bytes = None;
        } else {
            match parse_py_int(what) {
                Some(n) => bytes = Some(n),
                None => {
                    ctl.output(&format!("Error: bad argument {m}"));
                    ctl.exitstatus = exit::GENERIC;
                    return Ok(());
                }
            }
        }
    }
    let Some(bytes) = bytes else {
        return follow(ctl, &format!("/logtail/{name}/{channel}"));
    };
    let client = ctl.client()?;
    let ch = if channel == "stdout" {
        Channel::Stdout
    } else {
        Channel::Stderr
    };
    let read = ctl.block(client.read_process_log(name, ch, bytes.saturating_neg(), 0));
    print_log(ctl, name, read)
}

/// Prints a log read, or `<who>: ERROR (<why>)` for the faults supervisorctl names (BAD_NAME only
/// arises for process logs); other errors propagate.
fn print_log(ctl: &mut Controller, who: &str, read: Result<String, ClientError>) -> CmdResult {
    match read {
        Ok(text) => ctl.output(&text),
        Err(e) => {
            ctl.exitstatus = exit::GENERIC;
            let why = match e.fault() {
                Some(FaultCode::NoFile) => "no log file",
                Some(FaultCode::Failed) => "unknown error reading log",
                Some(FaultCode::BadName) => "no such process name",
                _ => return Err(e.into()),
            };
            ctl.output(&format!("{who}: ERROR ({why})"));
        }
    }
    Ok(())
}

/// Python `int()` of a string: optional sign, digits, surrounding whitespace, underscores between digits.
fn parse_py_int(text: &str) -> Option<i32> {
    let t = text.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    t.replace('_', "").parse().ok()
}

/// `maintail [-f | -BYTES]`: the same for the daemon's main log (`supervisor.readLog`, `/mainlogtail`).
pub fn do_maintail(ctl: &mut Controller, arg: &str) -> CmdResult {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let args: Vec<&str> = arg.split_whitespace().collect();
    let bytes = match args.as_slice() {
        [] => DEFAULT_BYTES,
        [one] => {
            let Some(what) = one.strip_prefix('-') else {
                ctl.output(&format!("Error: bad argument {one}"));
                ctl.exitstatus = exit::GENERIC;
                return Ok(());
            };
            if what == "f" {
                return follow(ctl, "/mainlogtail");
            }
            match parse_py_int(what) {
                Some(n) => n,
                None => {
                    ctl.output(&format!("Error: bad argument {one}"));
                    ctl.exitstatus = exit::GENERIC;
                    return Ok(());
                }
            }
        }
        _ => {
            ctl.output("Error: too many arguments");
            ctl.exitstatus = exit::GENERIC;
            show_help(ctl, "maintail");
            return Ok(());
        }
    };
    let client = ctl.client()?;
    let read = ctl.block(client.read_log(bytes.saturating_neg(), 0));
    print_log(ctl, "supervisord", read)
}

/// How an `fg` session ended.
enum FgEnd {
    /// Ctrl-C or end of input.
    Leave,
    /// The process is gone (or stdin could not be delivered), with the lines to print.
    Gone(Vec<String>),
}

/// `fg NAME`: connects the terminal to a running process: its stdout and stderr are streamed, typed
/// lines are sent to its stdin with `sendProcessStdin`; Ctrl-C or the end of input returns to the shell.
pub fn do_fg(ctl: &mut Controller, arg: &str) -> CmdResult {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let names: Vec<&str> = arg.split_whitespace().collect();
    let name = match names.as_slice() {
        [] => {
            ctl.output("ERROR: no process name supplied");
            ctl.exitstatus = exit::GENERIC;
            show_help(ctl, "fg");
            return Ok(());
        }
        [one] => *one,
        _ => {
            ctl.output("ERROR: too many process names supplied");
            ctl.exitstatus = exit::GENERIC;
            return Ok(());
        }
    };
    let client = ctl.client()?;
    let info = match ctl.block(client.get_process_info(name)) {
        Ok(info) => info,
        Err(ClientError::Fault(f)) => {
            if f.code_enum() == Some(FaultCode::BadName) {
                ctl.output("ERROR: bad process name supplied");
                ctl.exitstatus = exit::GENERIC;
            } else {
                ctl.output(&format!("ERROR: <Fault {}: '{}'>", f.code, f.string));
            }
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    if info.state != procd_protocol::ProcessState::Running {
        ctl.output("ERROR: process not running");
        ctl.exitstatus = exit::GENERIC;
        return Ok(());
    }
    ctl.output(BANNER);
    ctl.out.flush();
    let feed = LineFeed::start();
    let end = run_fg(ctl, &client, name, feed);
    match end {
        FgEnd::Leave => ctl.output("Exiting foreground"),
        FgEnd::Gone(lines) => {
            for l in lines {
                ctl.output(&l);
            }
        }
    }
    Ok(())
}

fn run_fg(ctl: &mut Controller, client: &Client, name: &str, mut feed: LineFeed) -> FgEnd {
    let rt = ctl.runtime();
    let out = &mut ctl.out;
    let end = rt.block_on(async {
        let mut stdout: Option<ByteStream> = client.tail_stream(name, Channel::Stdout).await.ok();
        let mut stderr: Option<ByteStream> = client.tail_stream(name, Channel::Stderr).await.ok();
        loop {
            tokio::select! {
                chunk = next(&mut stdout) => match chunk {
                    Some(bytes) => out.raw(&bytes),
                    None => stdout = None,
                },
                chunk = next(&mut stderr) => match chunk {
                    Some(bytes) => out.raw(&bytes),
                    None => stderr = None,
                },
                line = feed.lines.recv() => {
                    let Some(Some(line)) = line else { return FgEnd::Leave };
                    match client.send_process_stdin(name, &format!("{line}\n")).await {
                        Ok(_) => {}
                        Err(ClientError::Fault(f)) => {
                            let first = if f.code_enum() == Some(FaultCode::NotRunning) {
                                "Process got killed".to_string()
                            } else {
                                format!("ERROR: <Fault {}: '{}'>", f.code, f.string)
                            };
                            return FgEnd::Gone(vec![first, "Exiting foreground".into()]);
                        }
                        Err(_) => return FgEnd::Leave,
                    }
                    match client.get_process_info(name).await {
                        Ok(info) if info.state == procd_protocol::ProcessState::Running => {}
                        _ => return FgEnd::Gone(vec!["Process got killed".into(), "Exiting foreground".into()]),
                    }
                }
                _ = tokio::signal::ctrl_c() => return FgEnd::Leave,
            }
        }
    });
    feed.stop();
    end
}

/// The next chunk of an optional stream; pends forever once the stream is gone.
async fn next(stream: &mut Option<ByteStream>) -> Option<bytes::Bytes> {
    match stream {
        Some(s) => match s.next_chunk().await {
            Some(Ok(b)) => Some(b),
            _ => None,
        },
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_int() {
        assert_eq!(parse_py_int("100"), Some(100));
        assert_eq!(parse_py_int("1_0"), Some(10));
        assert_eq!(parse_py_int("-5"), Some(-5));
        assert_eq!(parse_py_int("x"), None);
        assert_eq!(parse_py_int(""), None);
        assert_eq!(parse_py_int("_1"), None);
    }
}
