use super::*;
use proptest::prelude::*;

fn names() -> Names {
    [
        ("a", ExpVal::Str("x".into())),
        ("n", ExpVal::Int(3)),
        ("neg", ExpVal::Int(-12)),
        ("big", ExpVal::Int(255)),
        ("z", ExpVal::Int(0)),
        ("s", ExpVal::Str("hello".into())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

#[test]
fn formats_like_python() {
    // Expected values produced with Python 3.11 `s % d`.
    let table = [
        ("%(n)02d", "03"),
        ("%(n)-4d|", "3   |"),
        ("%(n)+d", "+3"),
        ("%(n) d", " 3"),
        ("%(n)#x", "0x3"),
        ("%(n)#o", "0o3"),
        ("%(n)5.3d", "  003"),
        ("%(a)5.1s", "    x"),
        ("%(a)-5s|", "x    |"),
        ("%(n)c", "\u{3}"),
        ("%(a)c", "x"),
        ("%(a)r", "'x'"),
        ("%(n)ld", "3"),
        ("%(n)f", "3.000000"),
        ("%(n)e", "3.000000e+00"),
        ("%(n)g", "3"),
        ("%(n)i %(n)u", "3 3"),
        ("%(big)X", "FF"),
        ("%(big)#X", "0XFF"),
        ("%(n)010.4d", "0000000003"),
        ("%(n)-05d|", "3    |"),
        ("%(a)05s|", "    x|"),
        ("%(n)s", "3"),
        ("%(neg)05d", "-0012"),
        ("%(neg)+d", "-12"),
        ("%(neg)x", "-c"),
        ("%(big)e", "2.550000e+02"),
        ("%(big).2f", "255.00"),
        ("%(big)g", "255"),
        ("%(z)g", "0"),
        ("%(z)e", "0.000000e+00"),
        ("%(s).2s", "he"),
        ("%(s)r", "'hello'"),
        ("%(s)a", "'hello'"),
        ("100%%", "100%"),
        ("%%(a)s", "%(a)s"),
        ("a%(a)sb%(n)dc", "axb3c"),
        ("%(n)#.0f", "3."),
        ("%(n)10.3e|", " 3.000e+00|"),
        ("%(big).1g", "3e+02"),
        ("%(neg)g", "-12"),
        ("no format", "no format"),
        ("", ""),
    ];
    for (fmt, want) in table {
        assert_eq!(format(fmt, &names()), Ok(want.to_string()), "{fmt}");
    }
}

#[test]
fn errors_like_python() {
    let bad = |m: &str| Err(FormatError::Bad(m.to_string()));
    let table = [
        ("100%", bad("incomplete format")),
        ("%(a", bad("incomplete format key")),
        ("%(a)", bad("incomplete format")),
        (
            "%(a)q",
            bad("unsupported format character 'q' (0x71) at index 4"),
        ),
        (
            "%(a)d",
            bad("%d format: a real number is required, not str"),
        ),
        ("%(a)x", bad("%x format: an integer is required, not str")),
        (
            "%(a)%",
            bad("unsupported format character '%' (0x25) at index 4"),
        ),
        ("%d", bad("%d format: a real number is required, not dict")),
        ("%(n)*d", bad("not enough arguments for format string")),
        ("%(b)s", Err(FormatError::Missing("b".into()))),
        ("%((a))s", Err(FormatError::Missing("(a)".into()))),
    ];
    for (fmt, want) in table {
        assert_eq!(format(fmt, &names()), want, "{fmt}");
    }
}

#[test]
fn supervisord_wording() {
    let n: Names = [
        ("here".to_string(), ExpVal::Str("/etc".into())),
        ("ENV_HOME".to_string(), ExpVal::Str("/root".into())),
    ]
    .into();
    assert_eq!(
        expand("%(foo)s", &n, "program:x.command").unwrap_err(),
        "Format string '%(foo)s' for 'program:x.command' contains names ('foo') which cannot be expanded. Available names: ENV_HOME, here"
    );
    assert_eq!(
        expand("100%", &n, "program:x.command").unwrap_err(),
        "Format string '100%' for 'program:x.command' is badly formatted: incomplete format"
    );
}

proptest! {
    #[test]
    fn never_panics(s in ".{0,40}", t in "[%()a-z0-9.#+ *-]{0,20}") {
        let _ = format(&s, &names());
        let _ = format(&t, &names());
        let _ = expand(&t, &names(), "x.y");
    }
}
