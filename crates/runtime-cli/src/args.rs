//! Argument normalisation: Go-based callers write long flags with one dash (`-bundle X`,
//! `-no-subreaper`), as urfave/cli accepts. Rewrite those to `--` before clap sees them, but
//! only for names that really are long flags of the command being parsed, and only up to the
//! first positional argument (so a container command like `sh -c` is never touched).

use clap::Command;

fn long_flags(cmd: &Command) -> Vec<(String, bool)> {
    cmd.get_arguments()
        .filter_map(|a| {
            a.get_long()
                .map(|l| (l.to_string(), a.get_action().takes_values()))
        })
        .collect()
}

pub fn normalise(args: Vec<String>, root: &Command) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut it = args.into_iter();
    if let Some(a0) = it.next() {
        out.push(a0);
    }
    let global = long_flags(root);
    let mut current: Option<Command> = None;
    let mut positional_seen = false;
    let mut expect_value = false;
    for a in it {
        if positional_seen || a == "--" {
            positional_seen = true;
            out.push(a);
            continue;
        }
        if expect_value {
            expect_value = false;
            out.push(a);
            continue;
        }
        let mut flags = global.clone();
        if let Some(c) = &current {
            flags.extend(long_flags(c));
        }
        if let Some(rest) = a
            .strip_prefix('-')
            .filter(|r| !r.starts_with('-') && r.len() > 1)
        {
            let name = rest.split('=').next().unwrap_or(rest);
            if let Some((_, takes)) = flags.iter().find(|(l, _)| l == name) {
                expect_value = *takes && !rest.contains('=');
                out.push(format!("-{a}"));
                continue;
            }
        }
        if let Some(rest) = a.strip_prefix("--") {
            let name = rest.split('=').next().unwrap_or(rest);
            if let Some((_, takes)) = flags.iter().find(|(l, _)| l == name) {
                expect_value = *takes && !rest.contains('=');
            }
            out.push(a);
            continue;
        }
        if a.starts_with('-') && a.len() == 2 {
            // A short flag: does it take a value?
            let ch = a.chars().nth(1).unwrap_or('-');
            let takes = current
                .iter()
                .chain(std::iter::once(root))
                .flat_map(|c| c.get_arguments())
                .any(|x| x.get_short() == Some(ch) && x.get_action().takes_values());
            expect_value = takes;
            out.push(a);
            continue;
        }
        if a.starts_with('-') {
            out.push(a);
            continue;
        }
        match &current {
            None => {
                current = root.find_subcommand(&a).cloned();
                if current.is_none() {
                    positional_seen = true;
                }
            }
            Some(c) => {
                if let Some(sub) = c.find_subcommand(&a) {
                    current = Some(sub.clone());
                } else {
                    positional_seen = true;
                }
            }
        }
        out.push(a);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn n(v: &[&str]) -> Vec<String> {
        normalise(
            v.iter().map(|s| s.to_string()).collect(),
            &crate::cli::Cli::command(),
        )
    }

    #[test]
    fn single_dash_long_flags_become_double() {
        assert_eq!(
            n(&[
                "nucleus",
                "-root",
                "/r",
                "run",
                "-bundle",
                "b",
                "-no-subreaper",
                "id"
            ]),
            n(&[
                "nucleus",
                "--root",
                "/r",
                "run",
                "--bundle",
                "b",
                "--no-subreaper",
                "id"
            ])
        );
        assert_eq!(
            n(&["x", "create", "-pid-file=/p", "id"])[2],
            "--pid-file=/p"
        );
    }

    #[test]
    fn container_arguments_are_untouched() {
        let v = n(&["x", "kill", "id", "-all"]);
        assert_eq!(v[3], "-all");
        let v = n(&["x", "--log-format", "json", "state", "id"]);
        assert_eq!(v, vec!["x", "--log-format", "json", "state", "id"]);
    }
}
