//! `environment_file=`: read at every spawn, layered under `environment=`, errors that name the file.

use std::time::Duration;

use procd_protocol::Value;

use crate::common::{Fixture, str_field, wait_until};

const LONG: Duration = Duration::from_secs(20);

fn call(f: &Fixture, method: &str, name: &str) {
    f.rpc(method, vec![Value::String(name.into())])
        .unwrap_or_else(|e| panic!("{method}({name}): {e:?}"));
}

#[test]
fn environment_file_is_read_again_at_every_start() {
    let f = Fixture::new();
    let env = f.path("app.env");
    std::fs::write(
        &env,
        "# settings\nA=\"first value\"\nB=from-file\nC='kept $HOME'\n",
    )
    .unwrap();
    let out = f.path("env.out");
    f.write_conf(
        "",
        &format!(
            "[program:app]\ncommand=sh -c 'echo \"$A|$B|$C|$D\" > {out}; exec sleep 1000'\n\
             environment_file={env}, -{missing}\nenvironment=B=\"from-environment\"\nstartsecs=0\n",
            out = out.display(),
            env = env.display(),
            missing = f.path("absent.env").display(),
        ),
    );
    let _d = f.start();
    let read = |want: &str| {
        wait_until(LONG, &format!("env.out to read {want}"), || {
            let text = std::fs::read_to_string(&out).ok()?;
            (text.trim_end() == want).then_some(())
        });
    };
    read("first value|from-environment|kept $HOME|");
    std::fs::write(&env, "A=second\nD=new\n").unwrap();
    std::fs::remove_file(&out).unwrap();
    call(&f, "supervisor.stopProcess", "app");
    call(&f, "supervisor.startProcess", "app");
    read("second|from-environment||new");
}

#[test]
fn a_missing_environment_file_fails_the_spawn_like_a_missing_command() {
    let f = Fixture::new();
    let env = f.path("gone.env");
    f.write_conf(
        "",
        &format!(
            "[program:app]\ncommand=sleep 1000\nenvironment_file={}\nstartretries=1\n",
            env.display()
        ),
    );
    let _d = f.start();
    let info = f.wait_state("app", "FATAL", LONG);
    let want = format!(
        "can't read environment file {}: No such file or directory",
        env.display()
    );
    assert_eq!(str_field(&info, "description"), want);
    f.wait_log(LONG, "the spawnerr line", |m| {
        m == format!("spawnerr: {want}")
    });
    // Once the file exists, a start works.
    std::fs::write(&env, "X=1\n").unwrap();
    call(&f, "supervisor.startProcess", "app");
    f.wait_state("app", "RUNNING", LONG);
}

#[test]
fn a_bad_line_names_file_and_line() {
    let f = Fixture::new();
    let env = f.path("bad.env");
    std::fs::write(&env, "OK=1\nnot a name=2\n").unwrap();
    f.write_conf(
        "",
        &format!(
            "[program:app]\ncommand=sleep 1000\nenvironment_file={}\nautostart=false\n",
            env.display()
        ),
    );
    let _d = f.start();
    let fault = f
        .rpc("supervisor.startProcess", vec![Value::String("app".into())])
        .expect_err("spawn error");
    assert_eq!(fault.code, 50, "SPAWN_ERROR: {fault:?}");
    let info = f.info("app");
    assert_eq!(
        str_field(&info, "description"),
        format!(
            "environment file {}, line 2: invalid variable name 'not a name'",
            env.display()
        )
    );
}
