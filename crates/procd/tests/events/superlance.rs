//! superlance's listeners run as `[eventlistener:x]` under procd and act through its XML-RPC
//! interface: memmon restarts a program over its memory limit, httpok one whose URL fails, crashmail
//! mails about an unexpected exit (through a stub sendmail that records the mail).

use std::time::Duration;

use crate::common::{Fixture, port, wait_until};
use crate::support::{python, venv_bin};

const LONG: Duration = Duration::from_secs(40);

fn restarted(f: &Fixture, name: &str, old: i32) -> i32 {
    wait_until(LONG, &format!("{name} restarted by the listener"), || {
        let info = f.info(name);
        let pid = crate::common::int_field(&info, "pid");
        (crate::common::str_field(&info, "statename") == "RUNNING" && pid != old && pid > 0)
            .then_some(pid)
    })
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn memmon_restarts_a_program_over_its_rss_limit() {
    let py = python();
    let f = Fixture::new();
    let hog = "import time\nx = b'x' * (60 * 1024 * 1024)\ntime.sleep(1000)\n";
    std::fs::write(f.path("hog.py"), hog).expect("hog.py");
    f.write_conf(
        "",
        &format!(
            "[program:hog]\ncommand={py} {}\nstartsecs=0\n\n\
             [eventlistener:memmon]\ncommand={py} {} -p hog=20MB\nevents=TICK_5\n",
            f.path("hog.py").display(),
            venv_bin("memmon").display()
        ),
    );
    let _d = f.start();
    let first = crate::common::int_field(&f.wait_state("hog", "RUNNING", LONG), "pid");
    restarted(&f, "hog", first);
    f.wait_log(LONG, "memmon's stop", |m| {
        m == "stopped: hog (terminated by SIGTERM)"
    });
}

const WEB: &str = r#"
import http.server, os, sys
port, marker = int(sys.argv[1]), sys.argv[2]
if os.path.exists(marker):
    os.remove(marker)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        code = 500 if os.path.exists(marker) else 200
        self.send_response(code)
        self.end_headers()
        self.wfile.write(str(os.getpid()).encode())
    def log_message(self, *a):
        pass
http.server.HTTPServer(('127.0.0.1', port), H).serve_forever()
"#;

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn httpok_restarts_a_program_whose_url_fails() {
    let py = python();
    let f = Fixture::new();
    // web.py listens on a port its config names: reserved for the whole test.
    let reserved = port::reserve();
    let port = reserved.get();
    let marker = f.path("broken");
    std::fs::write(f.path("web.py"), WEB).expect("web.py");
    f.write_conf(
        "",
        &format!(
            "[program:web]\ncommand={py} {} {port} {}\nstartsecs=0\n\n\
             [eventlistener:httpok]\ncommand={py} {} -p web -t 2 http://127.0.0.1:{port}/\n\
             events=TICK_5\n",
            f.path("web.py").display(),
            marker.display(),
            venv_bin("httpok").display()
        ),
    );
    let _d = f.start();
    let first = crate::common::int_field(&f.wait_state("web", "RUNNING", LONG), "pid");
    // Healthy: at least one TICK_5 passes with no restart (httpok answered every event).
    f.wait_log(LONG, "a tick handled by httpok", |m| {
        m == "httpok: BUSY -> ACKNOWLEDGED"
    });
    assert_eq!(f.pid_of("web"), first);
    std::fs::write(&marker, "").expect("marker");
    restarted(&f, "web", first);
    wait_until(LONG, "the new web process to clear the marker", || {
        (!marker.exists()).then_some(())
    });
}

#[test]
#[cfg_attr(
    not(feature = "reference"),
    ignore = "compares with the reference supervisor 4.3.0: run tests/run-all.sh"
)]
fn crashmail_mails_about_an_unexpected_exit() {
    let py = python();
    let f = Fixture::new();
    let mail = f.path("mail.txt");
    let stub = f.path("sendmail.sh");
    std::fs::write(&stub, format!("#!/bin/sh\ncat >> {}\n", mail.display())).expect("stub");
    std::fs::set_permissions(&stub, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    f.write_conf(
        "",
        &format!(
            "[program:crashy]\ncommand=sh -c 'sleep 1; exit 2'\nstartsecs=0\nautorestart=false\n\n\
             [eventlistener:crashmail]\ncommand={py} {} -a -m ops@example.com -s {}\n\
             events=PROCESS_STATE_EXITED\n",
            venv_bin("crashmail").display(),
            stub.display()
        ),
    );
    let _d = f.start();
    let text = wait_until(LONG, "the mail", || {
        std::fs::read_to_string(&mail)
            .ok()
            .filter(|t| t.contains("exited unexpectedly"))
    });
    assert!(
        text.starts_with("To: ops@example.com\nSubject:  crashy crashed at "),
        "{text}"
    );
    assert!(
        text.contains("Process crashy in group crashy exited unexpectedly (pid ")
            && text.ends_with("from state RUNNING"),
        "{text}"
    );
}
