//! The URI template matcher: the first line is a template, the rest a URI.
//! A match puts each value back in its place to give the URI again, and a
//! plain `{var}` never takes a `/`.
#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use switchboard_core::fuzzing::Template;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (template_text, uri) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(template) = Template::parse(template_text) else {
        return;
    };
    let Some(vars) = template.matches(uri) else {
        return;
    };
    // Expand the template with the values found (no encoding: matching
    // hands values over as they appear).
    let mut expanded = String::new();
    let mut rest = template_text;
    while let Some(open) = rest.find('{') {
        expanded.push_str(&rest[..open]);
        let close = open + rest[open..].find('}').expect("parsed templates close");
        let inner = &rest[open + 1..close];
        let (name, reserved) = inner
            .strip_prefix('+')
            .map_or((inner, false), |n| (n, true));
        let value = vars.get(name).expect("every variable is matched");
        if !reserved {
            assert!(!value.contains('/'), "{{{name}}} took a slash: {value:?}");
        }
        expanded.push_str(value);
        rest = &rest[close + 1..];
    }
    expanded.push_str(rest);
    assert_eq!(expanded, uri, "the match does not expand back to the URI");
});
