//! The `ringwatch` binary: parse the command line, run, map to an exit code.
//! Exit codes: 0 ok, 1 a "not ok" verdict, 2 error, 3 unknown.

use std::process::ExitCode;

fn main() -> ExitCode {
    ringwatch::cli::main()
}
