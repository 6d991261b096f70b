//! The client library against the real supervisord: typed results, faults and transport errors.

use procctl::{Call, Channel, Client, ClientError, FaultCode, Value};

use crate::fixture::{Daemon, Server};

against_both!(typed_calls_and_faults, basic_auth_and_401);

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn typed_calls_and_faults(server: Server) {
    let d = Daemon::settled(server);
    let client = Client::new(&d.url, None).expect("url");
    rt().block_on(async {
        assert_eq!(client.get_api_version().await.expect("api"), "3.0");
        assert_eq!(client.get_version().await.expect("api"), "3.0");
        assert_eq!(
            client.get_supervisor_version().await.expect("version"),
            "4.3.0"
        );
        assert_eq!(client.get_identification().await.expect("id"), "supervisor");
        assert_eq!(
            client.get_state().await.expect("state").0,
            procctl::SupervisorState::Running
        );
        assert_eq!(
            client.get_pid().await.expect("pid"),
            i32::try_from(d.pid().expect("pid")).expect("pid")
        );
        let all = client.get_all_process_info().await.expect("all");
        let names: Vec<String> = all
            .iter()
            .map(|p| format!("{}:{}", p.group, p.name))
            .collect();
        assert_eq!(
            names,
            [
                "good:good",
                "grp:a",
                "grp:b",
                "manual:manual",
                "quick:quick",
                "ticker:ticker"
            ]
        );
        let good = client.get_process_info("good").await.expect("good");
        assert_eq!(good.state, procctl::ProcessState::Running);
        assert!(good.pid > 0);

        let err = client
            .get_process_info("nosuch")
            .await
            .expect_err("bad name");
        match err {
            ClientError::Fault(f) => {
                assert_eq!(f.code_enum(), Some(FaultCode::BadName));
                assert_eq!(f.string, "BAD_NAME: nosuch");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            client
                .stop_process("manual", true)
                .await
                .expect_err("not running")
                .fault_code(),
            Some(70)
        );
        assert!(client.start_process("manual", true).await.expect("start"));
        assert!(client.stop_process("manual", true).await.expect("stop"));
        let results = client
            .stop_process_group("grp", true)
            .await
            .expect("group stop");
        assert_eq!(
            results.iter().map(|r| r.status).collect::<Vec<_>>(),
            [80, 80]
        );
        let results = client
            .start_process_group("grp", true)
            .await
            .expect("group start");
        assert_eq!(results.len(), 2);
        assert!(
            client
                .signal_process("grp:a", "CONT")
                .await
                .expect("signal")
        );
        assert!(
            client
                .send_process_stdin("grp:b", "x\n")
                .await
                .expect("stdin")
        );
        assert!(client.send_remote_comm_event("t", "d").await.expect("comm"));

        let log = client
            .read_process_stdout_log("good", 0, 0)
            .await
            .expect("log");
        assert_eq!(log, "hello\n");
        let tail = client
            .tail_process_stderr_log("good", 0, 100)
            .await
            .expect("tail");
        assert_eq!(
            (tail.bytes.as_str(), tail.offset, tail.overflow),
            ("oops\n", 5, false)
        );
        assert!(
            client
                .read_log(0, 0)
                .await
                .expect("main log")
                .contains("supervisord started")
        );
        assert_eq!(
            client.reload_config().await.expect("reread"),
            procctl::ReloadResult::default()
        );
        assert_eq!(client.get_all_config_info().await.expect("config").len(), 6);
        assert!(client.clear_process_logs("good").await.expect("clear"));
        assert_eq!(
            client
                .read_process_stdout_log("good", 0, 0)
                .await
                .expect("log"),
            ""
        );

        let methods = client.list_methods().await.expect("methods");
        assert_eq!(methods.len(), 41);
        // Help texts are each server's own prose; only their presence is common.
        assert!(
            !client
                .method_help("supervisor.getPID")
                .await
                .expect("help")
                .is_empty()
        );
        assert_eq!(
            client
                .method_help("supervisor.nosuch")
                .await
                .expect_err("unknown method")
                .fault_code(),
            Some(FaultCode::SignatureUnsupported.code())
        );
        assert_eq!(
            client
                .method_signature("supervisor.getPID")
                .await
                .expect("sig"),
            ["int"]
        );
        let calls = [
            Call {
                method: "supervisor.getPID".into(),
                params: vec![],
            },
            Call {
                method: "supervisor.getProcessInfo".into(),
                params: vec![Value::from("nosuch")],
            },
            Call {
                method: "supervisor.getAPIVersion".into(),
                params: vec![],
            },
        ];
        let results = client.multicall(&calls).await.expect("multicall");
        assert!(matches!(results[0], Ok(Value::Int(_))));
        assert_eq!(results[1].as_ref().expect_err("fault").code, 10);
        assert_eq!(results[2], Ok(Value::from("3.0")));

        let mut stream = client
            .tail_stream("ticker", Channel::Stdout)
            .await
            .expect("stream");
        let chunk = stream.next_chunk().await.expect("chunk").expect("bytes");
        assert!(!chunk.is_empty());
        assert!(matches!(
            client.get_stream("/logtail/nosuch/stdout").await,
            Err(ClientError::Status { status: 404, .. })
        ));
    });
}

#[test]
fn transport_errors_are_distinguished() {
    let dir = tempfile::tempdir().expect("tempdir");
    rt().block_on(async {
        let missing =
            Client::new(&format!("unix://{}/none.sock", dir.path().display()), None).expect("url");
        assert!(matches!(
            missing.get_pid().await,
            Err(ClientError::NoSuchFile { .. })
        ));
        let refused = Client::new("http://127.0.0.1:1", None).expect("url");
        assert!(matches!(
            refused.get_pid().await,
            Err(ClientError::ConnectionRefused { .. })
        ));
    });
    assert!(Client::new("https://x", None).is_err());
}

fn basic_auth_and_401(server: Server) {
    let (_d, url) = Daemon::with_auth(server);
    rt().block_on(async {
        let anon = Client::new(&url, None).expect("url");
        assert_eq!(
            anon.get_pid().await.expect_err("401").http_status(),
            Some(401)
        );
        let wrong = Client::new(&url, Some(("user", "nope"))).expect("url");
        assert_eq!(
            wrong.get_pid().await.expect_err("401").http_status(),
            Some(401)
        );
        let ok = Client::new(&url, Some(("user", "secret"))).expect("url");
        // Several calls reuse the kept-alive connection.
        for _ in 0..5 {
            assert_eq!(ok.get_api_version().await.expect("api"), "3.0");
        }
    });
}
