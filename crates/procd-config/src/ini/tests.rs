use super::*;
use proptest::prelude::*;

fn parse(text: &str) -> Result<Ini, Vec<IniError>> {
    let mut ini = Ini::new();
    ini.read_str(text, Path::new("/t.conf"))?;
    Ok(ini)
}

/// Sections with their own options (defaults not merged), as Python's `_sections`.
fn dump(ini: &Ini) -> Vec<(String, Vec<(String, String)>)> {
    ini.sections
        .iter()
        .map(|s| {
            (
                s.name.clone(),
                s.options
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.value.clone()))
                    .collect(),
            )
        })
        .collect()
}

type Expected<'a> = &'a [(&'a str, &'a [(&'a str, &'a str)])];

#[test]
fn reads_like_configparser() {
    // Expected values produced with Python 3.11 RawConfigParser(inline_comment_prefixes=(';','#'), strict=False).
    let table: &[(&str, Expected)] = &[
        ("[s]\na=1\n", &[("s", &[("a", "1")])]),
        (
            "[s]\nA = 1\nb: 2\nc=x=y\nd:e=f\n",
            &[("s", &[("a", "1"), ("b", "2"), ("c", "x=y"), ("d", "e=f")])],
        ),
        (
            "[s]\ncmd=echo a ;b\nx=a;b\ny=a #c\nz=#v\n",
            &[(
                "s",
                &[("cmd", "echo a"), ("x", "a;b"), ("y", "a"), ("z", "#v")],
            )],
        ),
        ("[s]\nk=a;b ;c #d\n", &[("s", &[("k", "a;b ;c")])]),
        ("[s]\nk=a#b ;c\n", &[("s", &[("k", "a#b")])]),
        (
            "[s]\ncmd=/bin/echo\n  line2\n\n  line3\n",
            &[("s", &[("cmd", "/bin/echo\nline2\n\nline3")])],
        ),
        (
            "[s]\ncmd=/bin/echo\n  line2\n# c\n  line3\n",
            &[("s", &[("cmd", "/bin/echo\nline2\nline3")])],
        ),
        (
            "[s]\ncmd=/bin/echo\n  ;c\n  line3\nnext=1\n",
            &[("s", &[("cmd", "/bin/echo\nline3"), ("next", "1")])],
        ),
        (
            "[s]\na=1\n[t]\nb=2\n[s]\na=3\nc=4\n",
            &[("s", &[("a", "3"), ("c", "4")]), ("t", &[("b", "2")])],
        ),
        (
            "[DEFAULT]\nd=1\n[s]\na=1\n[t]\nd=2\n",
            &[("s", &[("a", "1")]), ("t", &[("d", "2")])],
        ),
        ("[s]\n  a=1\n  b=2\n", &[("s", &[("a", "1"), ("b", "2")])]),
        (
            "[s]\na=1\n   [t]\nb=2\n",
            &[("s", &[("a", "1\n[t]"), ("b", "2")])],
        ),
        (
            "[s] junk\na=1\n[a]b]\nc=1\n",
            &[("s", &[("a", "1")]), ("a]b", &[("c", "1")])],
        ),
        ("[ sp ]\na = \n", &[(" sp ", &[("a", "")])]),
        (
            "[s]\na=1\r\nb=2\rc=3\n",
            &[("s", &[("a", "1"), ("b", "2"), ("c", "3")])],
        ),
        ("[s]\na=1\n\n\n", &[("s", &[("a", "1")])]),
        ("[s]\na=\n  x\n", &[("s", &[("a", "\nx")])]),
        ("", &[]),
    ];
    for (text, want) in table {
        let ini = parse(text).unwrap_or_else(|e| panic!("{text:?}: {e:?}"));
        let want: Vec<(String, Vec<(String, String)>)> = want
            .iter()
            .map(|(s, opts)| {
                (
                    s.to_string(),
                    opts.iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                )
            })
            .collect();
        assert_eq!(dump(&ini), want, "{text:?}");
    }
}

#[test]
fn defaults_apply_to_every_section() {
    let ini = parse("[DEFAULT]\nd=1\nE=x\n[s]\na=1\n[t]\nd=2\n").unwrap();
    assert_eq!(ini.get("s", "d").map(|v| v.value.as_str()), Some("1"));
    assert_eq!(ini.get("t", "d").map(|v| v.value.as_str()), Some("2"));
    assert_eq!(ini.get("s", "e").map(|v| v.value.as_str()), Some("x"));
    assert_eq!(ini.options("s"), vec!["a", "d", "e"]);
    assert_eq!(ini.sections(), vec!["s", "t"]);
    assert!(ini.get("nope", "d").is_none());
}

#[test]
fn errors_like_configparser() {
    let e = parse("a=1\n[s]\n").unwrap_err();
    assert_eq!(e.len(), 1);
    assert_eq!(
        (e[0].line, &e[0].kind),
        (1, &IniErrorKind::MissingSectionHeader)
    );
    let e = parse("[s]\nnovalue\nb=1\nalso bad\n").unwrap_err();
    assert_eq!(e.iter().map(|x| x.line).collect::<Vec<_>>(), vec![2, 4]);
    assert!(e.iter().all(|x| x.kind == IniErrorKind::Parsing));
    assert_eq!(e[0].text, "novalue\n");
    assert_eq!(
        e[0].to_string(),
        "Source contains parsing errors: '/t.conf'\n\t[line  2]: 'novalue\\n'"
    );
    assert_eq!(parse("[s]\n=x\n").unwrap_err()[0].line, 2);
    assert_eq!(
        parse("[]\n").unwrap_err()[0].kind,
        IniErrorKind::MissingSectionHeader
    );
}

#[test]
fn spans_point_at_the_last_assignment() {
    let mut ini = Ini::new();
    ini.read_str("[s]\na=1\n\n[s]\na=2\n", Path::new("/main.conf"))
        .unwrap();
    ini.read_str("[s]\nb=%(here)s/x\n", Path::new("/inc/x.conf"))
        .unwrap();
    assert_eq!(
        ini.get("s", "a").unwrap().span,
        Span {
            file: "/main.conf".into(),
            line: 5
        }
    );
    assert_eq!(
        ini.get("s", "b").unwrap().span,
        Span {
            file: "/inc/x.conf".into(),
            line: 2
        }
    );
    assert_eq!(ini.section_file("s"), Some(Path::new("/main.conf")));
    ini.expand_here("/inc");
    assert_eq!(ini.get("s", "b").unwrap().value, "/inc/x");
}

#[test]
fn expand_here_copies_defaults_into_sections() {
    let mut ini = parse("[DEFAULT]\nd=%(here)s\n[s]\n").unwrap();
    ini.expand_here("/one");
    ini.read_str("[t]\n", Path::new("/two/x.conf")).unwrap();
    ini.expand_here("/two");
    assert_eq!(ini.get("s", "d").unwrap().value, "/one");
    assert_eq!(ini.get("t", "d").unwrap().value, "/two");
}

proptest! {
    #[test]
    fn never_panics(text in "[\\[\\]a-z=:;# \t\n\r%()\u{3000}\u{1c}]{0,200}") {
        let _ = parse(&text);
    }

    #[test]
    fn simple_pairs_round_trip(key in "[a-zA-Z_][a-zA-Z0-9_]{0,8}", value in "[a-zA-Z0-9/._-]{0,12}") {
        let ini = parse(&format!("[s]\n{key} = {value}\n")).unwrap();
        prop_assert_eq!(ini.get("s", &key.to_lowercase()).map(|v| v.value.clone()), Some(value));
    }
}
