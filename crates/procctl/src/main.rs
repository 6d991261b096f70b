//! `procctl`: a drop-in for `supervisorctl`.

fn main() {
    let code = procctl::cli::main_with_args(std::env::args_os().collect());
    std::process::exit(code);
}
